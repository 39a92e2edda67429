"""Measured pattern -> findings, severity, red flags (:mod:`.rules`) and exercise prescriptions from
the exercise library (:mod:`.exercises`). Findings never import the report, the store or the CLI."""

from __future__ import annotations

from posture.findings.across import (
    ACROSS_PATTERN_ROLES,
    SCHEMA_ACROSS,
    AcrossOptions,
    CrossViewFinding,
    derive_across,
)
from posture.findings.exercises import (
    ENV_EXERCISES,
    KINDS,
    Exercise,
    ExerciseLibraryError,
    Prescription,
    Target,
    load_exercises,
    parse_exercises,
    select_exercises,
    shipped_exercises_path,
    user_exercises_path,
)

# the one rule for "clear", over front and side views (the cards, both PDFs and the drawing use it)
from posture.findings.judge import SIDE_MEASUREMENTS, band, counts, noise_band, reference
from posture.findings.rules import (
    DISCLAIMER,
    MARKED,
    MILD,
    MODERATE,
    NOISE,
    PATTERN_ROLES,
    RED_FLAGS,
    RED_FLAGS_TITLE,
    SCHEMA_FINDING,
    SEVERITIES,
    SIDE_RULES,
    Cutoffs,
    Evidence,
    Finding,
    FindingOptions,
    attach_findings,
    derive_findings,
    findings_held,
    other,
)

# the cross-view patterns (posture.findings.across) join the single-photo ones, so that the exercise
# library can key entries to them (exercises.parse_exercises checks targets against PATTERN_ROLES)
PATTERN_ROLES.update(ACROSS_PATTERN_ROLES)

__all__ = [
    "ACROSS_PATTERN_ROLES",
    "DISCLAIMER",
    "ENV_EXERCISES",
    "KINDS",
    "MARKED",
    "MILD",
    "MODERATE",
    "NOISE",
    "PATTERN_ROLES",
    "RED_FLAGS",
    "RED_FLAGS_TITLE",
    "SCHEMA_ACROSS",
    "SCHEMA_FINDING",
    "SEVERITIES",
    "SIDE_MEASUREMENTS",
    "SIDE_RULES",
    "AcrossOptions",
    "CrossViewFinding",
    "Cutoffs",
    "Evidence",
    "Exercise",
    "ExerciseLibraryError",
    "Finding",
    "FindingOptions",
    "Prescription",
    "Target",
    "attach_findings",
    "band",
    "counts",
    "derive_across",
    "derive_findings",
    "findings_held",
    "load_exercises",
    "noise_band",
    "other",
    "parse_exercises",
    "reference",
    "select_exercises",
    "shipped_exercises_path",
    "user_exercises_path",
]
