// Reads a podcast feed with Podcast Index's parser (podcast-partytime, the one its
// crawler uses) and prints, as JSON, each item's guid and the soundbites it understood:
//   node partytime_check.mjs feed.xml  ->  [{"guid": ..., "soundbites": [{startTime, duration, title}]}]
// Exit code 2 when the parser makes nothing of the feed.
import { readFileSync } from "node:fs";
import partytime from "podcast-partytime";

const feed = partytime.parseFeed(readFileSync(process.argv[2], "utf8"));
if (!feed) {
  process.stderr.write("podcast-partytime could not parse the feed\n");
  process.exit(2);
}
const items = feed.items.map((item) => ({
  guid: item.guid,
  soundbites: item.podcastSoundbites ?? [],
}));
process.stdout.write(JSON.stringify(items) + "\n");
