"""``python -m pipeline.steps.govern``: the Govern step's container entry point."""

from pipeline.steps.govern.container import main

raise SystemExit(main())
