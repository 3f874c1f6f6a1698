//! Command line: raw arguments (no I/O) and the validated plan.
