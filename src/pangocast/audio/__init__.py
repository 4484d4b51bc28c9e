"""PCM helpers, ffmpeg, the episode timeline, pacing, jingles, mastering and MP3 encoding."""
