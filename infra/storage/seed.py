"""The embedded default's storage starts with the sample CSVs, so a fresh install has data to load."""
from __future__ import annotations

import shutil
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "Documentation" / "data_challenge_files"


def seed_samples(storage_dir: Path, samples: Path = SAMPLES) -> None:
    """A storage folder made here starts with the sample CSVs; a folder that exists is the user's, left alone."""
    if storage_dir.exists():
        return
    storage_dir.mkdir(parents=True)
    for sample in sorted(samples.glob("*.csv")):
        shutil.copyfile(sample, storage_dir / sample.name)
