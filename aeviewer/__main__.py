from aeviewer.cli.commands import main

raise SystemExit(main())
