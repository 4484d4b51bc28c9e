"""The episode script format and the catalogue of a show's episodes."""
