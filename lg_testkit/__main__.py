from lg_testkit.cli import main

raise SystemExit(main())
