"""The build: planning, synthesis scheduling, episode delivery and publishing; preview."""
