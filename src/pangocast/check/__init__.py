"""The validator: the feed and the media files as podcast apps and validators see them."""
