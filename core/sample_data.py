"""Synthetic CSVs of any size with the original files' shape and error mix, streamed row by row."""
from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from typing import TextIO

DEPARTMENTS = (
    "Product Management", "Sales", "Research and Development", "Business Development", "Engineering",
    "Human Resources", "Services", "Support", "Marketing", "Training", "Legal", "Accounting",
)
_ROLES = (
    "Account Executive", "Account Representative", "Accountant", "Administrative Assistant", "Analyst Programmer",
    "Assistant Manager", "Automation Specialist", "Budget Analyst", "Business Systems Analyst", "Chemical Engineer",
    "Civil Engineer", "Compensation Analyst", "Computer Systems Analyst", "Cost Accountant", "Data Coordinator",
    "Database Administrator", "Design Engineer", "Developer", "Editor", "Electrical Engineer", "Engineer",
    "Environmental Specialist", "Executive Secretary", "Financial Advisor", "Financial Analyst", "Food Chemist",
    "Geological Engineer", "GIS Technical Architect", "General Manager", "Graphic Designer", "Health Coach",
    "Help Desk Operator", "Human Resources Assistant", "Information Systems Manager", "Internal Auditor",
    "Legal Assistant", "Marketing Assistant", "Marketing Manager", "Mechanical Systems Engineer", "Nurse",
    "Office Assistant", "Operator", "Paralegal", "Payment Adjustment Coordinator", "Pharmacist", "Physical Therapist",
    "Programmer Analyst", "Project Manager", "Quality Engineer", "Recruiter", "Research Associate", "Research Nurse",
    "Safety Technician", "Sales Associate", "Sales Representative", "Senior Developer", "Senior Editor",
    "Software Consultant", "Software Engineer", "Software Test Engineer", "Staff Accountant", "Statistician",
    "Structural Analysis Engineer", "Systems Administrator", "Tax Accountant", "Teacher", "Technical Writer",
    "VP Accounting", "VP Marketing", "VP Product Management", "VP Quality Control", "VP Sales", "Web Designer",
)
_LEVELS = ("", " I", " II", " III", " IV")
_FIRST = (
    "Harold", "Ty", "Lyman", "Thia", "Cirstoforo", "Beltran", "Ludvig", "Carline", "Ana", "Bea", "Chen", "Dmitri",
    "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kaito", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn",
    "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wen", "Ximena", "Yusuf", "Zoe", "Zoë", "Åsa", "José", "Siobhán",
)
_LAST = (
    "Vogt", "Hofer", "Hadye", "Morican", "Martinetto", "Natte", "Norwood", "Fryman", "Almeida", "Brennan",
    "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen", "Kowalski", "Larsen",
    "Müller", "Nakamura", "O'Brien", "Petrov", "Quispe", "Rossi", "Schmidt", "Tanaka", "Usman", "Van der Berg",
)
MISSING_SHARE = 0.035  # the originals: 70 of 1999 rows miss one field
_MISSABLE = (1, 2, 3, 4)  # name, datetime, department_id, job_id — as in the originals, never the id


def job_titles(count: int) -> list[str]:
    titles = [role + level for level in _LEVELS for role in _ROLES]
    while len(titles) < count:
        titles.append(f"Specialist {len(titles) + 1}")
    return titles[:count]


def department_names(count: int) -> list[str]:
    return list(DEPARTMENTS[:count]) + [f"Department {n}" for n in range(len(DEPARTMENTS) + 1, count + 1)]


def _hire_moment(rng: random.Random) -> str:
    year = 2021 if rng.random() < 0.85 else 2022  # the originals' split between the two years
    moment = datetime(year, 1, 1) + timedelta(seconds=rng.randrange(365 * 24 * 3600))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_samples(departments_out: TextIO, jobs_out: TextIO, employees_out: TextIO, *, rows: int,
                  seed: int = 2021, departments: int = 12, jobs: int = 183) -> None:
    rng = random.Random(seed)
    csv.writer(departments_out, lineterminator="\n").writerows(enumerate(department_names(departments), 1))
    csv.writer(jobs_out, lineterminator="\n").writerows(enumerate(job_titles(jobs), 1))
    writer = csv.writer(employees_out, lineterminator="\n")
    for id_ in range(1, rows + 1):
        row = [id_, f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", _hire_moment(rng),
               rng.randint(1, departments), rng.randint(1, jobs)]
        if rng.random() < MISSING_SHARE:
            row[rng.choice(_MISSABLE)] = ""
        writer.writerow(row)
