"""Reading articles and column dumps into episode scripts."""
