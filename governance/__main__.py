from governance.cli import main

raise SystemExit(main())
