"""The ``pangocast`` command line (Typer). Kept outside the library package so that
``pangocast`` itself never prints and never imports typer."""
