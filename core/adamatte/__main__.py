from adamatte.cli import main

raise SystemExit(main())
