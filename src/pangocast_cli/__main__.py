from pangocast_cli.app import main

main()
