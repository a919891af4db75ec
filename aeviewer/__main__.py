from aeviewer.cli import main

raise SystemExit(main())
