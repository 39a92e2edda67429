"""``python -m posture.cli ...``."""

from posture.cli import main

if __name__ == "__main__":  # not when a spawned --jobs worker re-imports the main module
    raise SystemExit(main())
