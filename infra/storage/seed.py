"""The embedded default's storage starts with the sample CSVs, so a fresh install has data to load."""
from __future__ import annotations

import shutil
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "Documentation" / "data_challenge_files"


def seed_samples(storage_dir: Path, samples: Path = SAMPLES) -> None:
    """Copies each sample CSV that the folder does not have yet; never overwrites a file."""
    storage_dir.mkdir(parents=True, exist_ok=True)
    for sample in sorted(samples.glob("*.csv")):
        target = storage_dir / sample.name
        if not target.exists():
            shutil.copyfile(sample, target)
