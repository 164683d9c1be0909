from credlint.cli import main

raise SystemExit(main())
