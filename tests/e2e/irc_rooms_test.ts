/**
 * Rooms from IRC over real sockets: TOPIC, LIST, KICK, INVITE, MODE +i +o +t, AWAY, and a text
 * user seeing what IRC operators do.
 */
import { IrcClient } from "../helpers/irc.ts";
import { connectText } from "../helpers/lines.ts";
import { ircPort, startServer } from "../helpers/server.ts";

const QUIET = ["--msg-rate", "0", "--who-rate", "0", "--rename-rate", "0"];

Deno.test("irc rooms: TOPIC, LIST, MODE +i/+o/+t, INVITE, KICK, AWAY", async (t) => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using op = await IrcClient.register(port, "opal");
  using guest = await IrcClient.register(port, "gus");
  using text = await connectText(server.port);
  await text.send("rename|tex");
  await text.readUntil((l) => l === "You renamed to tex");
  await op.send("JOIN #ops");
  await op.expect(/^:fastim 353 opal = #ops :@opal$/);

  await t.step("TOPIC: the operator sets it, members and joiners see it", async () => {
    await op.send("TOPIC #ops");
    await op.expect(/^:fastim 331 opal #ops :No topic is set$/);
    await op.send("TOPIC #ops :deploys at noon");
    await op.expect(/^:opal!\S+ TOPIC #ops :deploys at noon$/);
    await guest.send("JOIN #ops");
    await guest.expect(/^:gus!\S+ JOIN #ops$/);
    await guest.expect(/^:fastim 332 gus #ops :deploys at noon$/);
    await guest.expect(/^:fastim 353 gus = #ops :@opal gus$/);
    await op.expect(/^:gus!\S+ JOIN #ops$/);
  });

  await t.step("LIST: rooms with member counts and topics", async () => {
    await guest.send("LIST");
    await guest.expect(/^:fastim 321 gus /);
    await guest.expect(/^:fastim 322 gus #ops 2 :deploys at noon$/);
    await guest.expect(/^:fastim 323 gus /);
  });

  await t.step("MODE: query, +t always on, +o makes an operator", async () => {
    await guest.send("MODE #ops");
    await guest.expect(/^:fastim 324 gus #ops :\+t$/);
    await guest.send("MODE #ops +o gus");
    await guest.expect(/^:fastim 482 gus #ops :/);
    await op.send("MODE #ops +o gus");
    await guest.expect(/^:opal!\S+ MODE #ops \+o :gus$/);
    await op.expect(/^:opal!\S+ MODE #ops \+o :gus$/);
    await op.send("MODE #ops -t");
    await op.expect(/^:fastim 472 opal t :/);
    await op.send("MODE #ops b");
    await op.expect(/^:fastim 368 opal #ops :/);
    await op.send("MODE opal");
    await op.expect(/^:fastim 221 opal :\+$/);
  });

  await t.step("MODE +i: invite-only; INVITE lets one in", async () => {
    await op.send("MODE #ops +i");
    await op.expect(/^:opal!\S+ MODE #ops :\+i$/);
    await op.send("MODE #ops");
    await op.expect(/^:fastim 324 opal #ops :\+it$/);
    await text.send("join|#ops");
    await text.readUntil((l) => /invite-only/.test(l));
    await op.send("INVITE tex #ops");
    await op.expect(/^:fastim 341 opal tex :#ops$/);
    await text.readUntil((l) => l.startsWith("[#ops]") && /invite/.test(l));
    await text.send("join|#ops");
    await op.expect(/^:tex!\S+ JOIN #ops$/);
  });

  await t.step("KICK: the kicked one and the room see it; the text user too", async () => {
    await op.send("KICK #ops tex :off topic");
    await op.expect(/^:opal!\S+ KICK #ops tex :off topic$/);
    await guest.expect(/^:opal!\S+ KICK #ops tex :off topic$/);
    await text.readUntil((l) => l.startsWith("[#ops]") && /off topic/.test(l));
    await op.send("KICK #ops gus");
    await guest.expect(/^:opal!\S+ KICK #ops gus :kicked$/);
    await guest.send("PRIVMSG #ops :still here?");
    // An invite-only room is hidden from those outside it: "no such channel".
    await guest.expect(/^:fastim 403 gus #ops :/);
  });

  await t.step("AWAY is acknowledged", async () => {
    await op.send("AWAY :lunch");
    await op.expect(/^:fastim 306 opal :/);
    await op.send("AWAY");
    await op.expect(/^:fastim 305 opal :/);
  });

  await t.step("PART: the one who leaves and the room see it", async () => {
    await op.send("PART #ops :bye");
    await op.expect(/^:opal!\S+ PART #ops :bye$/);
  });
});
