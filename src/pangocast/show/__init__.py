"""Starting a show: a new show folder with everything ``import`` and ``build`` need."""
