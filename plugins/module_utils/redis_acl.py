# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis ACL rules, checked before they reach a host.

The redis role writes ACL files from lists of rules (``-@all``, ``+get``,
``~kaizen:*``, ...). Redis refuses a file with one bad rule, and the role also
lets Redis check every file before installing it; this module catches the
same mistakes earlier, on the controller, so that a typo fails the run before
any host is touched, with a message naming the variable and the rule.

The command and category names are those of Redis 7.0 (Debian 12), as the
server and Sentinel list them (``COMMAND LIST``, ``ACL CAT``).
Nothing here imports Ansible.
"""

from __future__ import annotations

import re
import typing as t

SERVER = "server"
SENTINEL = "sentinel"

CATEGORIES = frozenset(
    "admin bitmap blocking connection dangerous fast geo hash hyperloglog keyspace list pubsub read scripting "
    "set slow sortedset stream string transaction write all".split()
)

_SERVER_COMMANDS = """
acl acl|cat acl|deluser acl|dryrun acl|genpass acl|getuser acl|help acl|list acl|load acl|log acl|save
acl|setuser acl|users acl|whoami append asking auth bgrewriteaof bgsave bitcount bitfield bitfield_ro bitop
bitpos blmove blmpop blpop brpop brpoplpush bzmpop bzpopmax bzpopmin client client|caching client|getname
client|getredir client|help client|id client|info client|kill client|list client|no-evict client|pause
client|reply client|setname client|tracking client|trackinginfo client|unblock client|unpause cluster
cluster|addslots cluster|addslotsrange cluster|bumpepoch cluster|count-failure-reports cluster|countkeysinslot
cluster|delslots cluster|delslotsrange cluster|failover cluster|flushslots cluster|forget cluster|getkeysinslot
cluster|help cluster|info cluster|keyslot cluster|links cluster|meet cluster|myid cluster|nodes
cluster|replicas cluster|replicate cluster|reset cluster|saveconfig cluster|set-config-epoch cluster|setslot
cluster|shards cluster|slaves cluster|slots command command|count command|docs command|getkeys
command|getkeysandflags command|help command|info command|list config config|get config|help
config|resetstat config|rewrite config|set copy dbsize debug decr decrby del discard dump echo eval eval_ro
evalsha evalsha_ro exec exists expire expireat expiretime failover fcall fcall_ro flushall flushdb function
function|delete function|dump function|flush function|help function|kill function|list function|load
function|restore function|stats geoadd geodist geohash geopos georadius georadius_ro georadiusbymember
georadiusbymember_ro geosearch geosearchstore get getbit getdel getex getrange getset hdel hello hexists hget
hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hrandfield hscan hset hsetnx hstrlen hvals incr incrby
incrbyfloat info keys lastsave latency latency|doctor latency|graph latency|help latency|histogram
latency|history latency|latest latency|reset lcs lindex linsert llen lmove lmpop lolwut lpop lpos lpush lpushx
lrange lrem lset ltrim memory memory|doctor memory|help memory|malloc-stats memory|purge memory|stats
memory|usage mget migrate module module|help module|list module|load module|loadex module|unload monitor move
mset msetnx multi object object|encoding object|freq object|help object|idletime object|refcount persist
pexpire pexpireat pexpiretime pfadd pfcount pfdebug pfmerge pfselftest ping psetex psubscribe psync pttl
publish pubsub pubsub|channels pubsub|help pubsub|numpat pubsub|numsub pubsub|shardchannels
pubsub|shardnumsub punsubscribe quit randomkey readonly readwrite rename renamenx replconf replicaof reset
restore restore-asking role rpop rpoplpush rpush rpushx sadd save scan scard script script|debug
script|exists script|flush script|help script|kill script|load sdiff sdiffstore select set setbit setex setnx
setrange shutdown sinter sintercard sinterstore sismember slaveof slowlog slowlog|get slowlog|help slowlog|len
slowlog|reset smembers smismember smove sort sort_ro spop spublish srandmember srem sscan ssubscribe strlen
subscribe substr sunion sunionstore sunsubscribe swapdb sync time touch ttl type unlink unsubscribe unwatch
wait watch xack xadd xautoclaim xclaim xdel xgroup xgroup|create xgroup|createconsumer xgroup|delconsumer
xgroup|destroy xgroup|help xgroup|setid xinfo xinfo|consumers xinfo|groups xinfo|help xinfo|stream xlen
xpending xrange xread xreadgroup xrevrange xsetid xtrim zadd zcard zcount zdiff zdiffstore zincrby zinter
zintercard zinterstore zlexcount zmpop zmscore zpopmax zpopmin zrandmember zrange zrangebylex zrangebyscore
zrangestore zrank zrem zremrangebylex zremrangebyrank zremrangebyscore zrevrange zrevrangebylex
zrevrangebyscore zrevrank zscan zscore zunion zunionstore
"""

_SENTINEL_COMMANDS = """
acl acl|cat acl|deluser acl|dryrun acl|genpass acl|getuser acl|help acl|list acl|load acl|log acl|save
acl|setuser acl|users acl|whoami auth client client|caching client|getname client|getredir client|help
client|id client|info client|kill client|list client|no-evict client|pause client|reply client|setname
client|tracking client|trackinginfo client|unblock client|unpause command command|count command|docs
command|getkeys command|getkeysandflags command|help command|info command|list hello info ping psubscribe
publish punsubscribe role sentinel sentinel|ckquorum sentinel|config sentinel|debug sentinel|failover
sentinel|flushconfig sentinel|get-master-addr-by-name sentinel|help sentinel|info-cache
sentinel|is-master-down-by-addr sentinel|master sentinel|masters sentinel|monitor sentinel|myid
sentinel|pending-scripts sentinel|remove sentinel|replicas sentinel|reset sentinel|sentinels sentinel|set
sentinel|simulate-failure sentinel|slaves shutdown subscribe unsubscribe
"""

COMMANDS = {
    SERVER: frozenset(_SERVER_COMMANDS.split()),
    SENTINEL: frozenset(_SENTINEL_COMMANDS.split()),
}
"""Command names (``name`` and ``container|subcommand``) a Redis 7.0 server and Sentinel know."""

_FLAGS = frozenset(
    "on off nopass resetpass reset allkeys resetkeys allchannels resetchannels allcommands nocommands "
    "skip-sanitize-payload sanitize-payload clearselectors".split()
)
# Rules that are allowed inside a selector: keys, channels, commands.
_SELECTOR_FLAGS = frozenset("allkeys resetkeys allchannels resetchannels allcommands nocommands".split())
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
_KEY_PERMISSIONS = re.compile(r"^%([RWrw]+)~")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
"""User names the role accepts: they appear unquoted in ACL files and configuration lines."""


def _containers(commands: frozenset[str]) -> frozenset[str]:
    return frozenset(name.split("|", 1)[0] for name in commands if "|" in name)


def _command_problem(token: str, mode: str) -> str | None:
    commands = COMMANDS[mode]
    body = token[1:]
    if not body:
        return "%r names no command" % token
    if body.startswith("@"):
        category = body[1:].lower()
        if category not in CATEGORIES:
            return "%r: unknown command category %r (known: %s)" % (token, category, ", ".join(sorted(CATEGORIES)))
        return None
    name = body.lower()
    if "|" not in name:
        if name not in commands:
            return "%r: unknown command %r%s" % (token, name, " in Sentinel" if mode == SENTINEL else "")
        return None
    container, argument = name.split("|", 1)
    if container not in commands:
        return "%r: unknown command %r%s" % (token, container, " in Sentinel" if mode == SENTINEL else "")
    if not argument:
        return "%r: nothing after '|'" % token
    if name in commands:
        return None
    if container in _containers(commands):
        return "%r: %r has no subcommand %r" % (token, container, argument)
    if token.startswith("-"):
        return "%r: a first argument (%s|%s) can only be allowed, not removed" % (token, container, argument)
    if "|" in argument:
        return "%r: only one '|' is allowed" % token
    return None


def _selector_problems(token: str, mode: str) -> list[str]:
    if not token.endswith(")"):
        return ["%r: a selector must end with ')'" % token]
    problems = []
    for inner in token[1:-1].split():
        if inner.lower() in _SELECTOR_FLAGS or inner[:1] in ("~", "&"):
            continue
        if inner[:1] == "%":
            problem = _rule_problem(inner, mode)
        elif inner[:1] in ("+", "-"):
            problem = _command_problem(inner, mode)
        else:
            problem = "%r: only key, channel and command rules are allowed in a selector" % inner
        if problem:
            problems.append("in selector %r: %s" % (token, problem))
    return problems


def _rule_problem(token: str, mode: str) -> str | None:
    first = token[:1]
    if token.lower() in _FLAGS:
        return None
    if first in (">", "<"):
        return "%r: passwords do not belong in ACL rules (they would end up in logs and diffs); " \
               "set the user's password variable instead" % (first + "...")
    if first in ("#", "!"):
        if not _HASH.match(token[1:]):
            return "%r: a password hash is 64 hexadecimal characters (SHA-256)" % (first + "...")
        return "%r: password hashes do not belong in ACL rules; set the user's password variable instead" % (first + "...")
    if first in ("~", "&"):
        return None
    if first == "%":
        match = _KEY_PERMISSIONS.match(token)
        if not match or set(match.group(1).upper()) - {"R", "W"}:
            return "%r: key permissions are written %%R~pattern, %%W~pattern or %%RW~pattern" % token
        return None
    if first in ("+", "-"):
        return _command_problem(token, mode)
    if first == "(":
        return None  # checked by _selector_problems
    return "%r is not an ACL rule (rules look like on, ~pattern, &pattern, +command, -@category, " \
           "+command|subcommand, allkeys, resetchannels, ...)" % token


def rule_problems(rules: t.Any, mode: str = SERVER) -> list[str]:
    """What is wrong with a list of ACL rules (empty when Redis would accept every rule).

    ``rules`` is a list of strings; each string is one rule, or several separated by spaces
    (a selector ``(...)`` is one rule even with spaces inside). ``mode`` is ``server`` or
    ``sentinel``: the two know different commands.
    """
    if mode not in COMMANDS:
        raise ValueError("mode must be %r or %r" % (SERVER, SENTINEL))
    if isinstance(rules, str) or not isinstance(rules, (list, tuple)):
        return ["must be a list of ACL rules (strings), got %s" % type(rules).__name__]
    problems: list[str] = []
    for item in rules:
        if not isinstance(item, str):
            problems.append("%r is not a string" % (item,))
            continue
        for token in split_rules(item):
            if token.startswith("("):
                problems.extend(_selector_problems(token, mode))
                continue
            problem = _rule_problem(token, mode)
            if problem:
                problems.append(problem)
    return problems


def split_rules(text: str) -> list[str]:
    """Split a string of rules on spaces, keeping ``( ... )`` selectors whole."""
    tokens: list[str] = []
    current = ""
    depth = 0
    for char in text:
        if char == "(" and not current:
            depth = 1
            current = char
        elif depth and char == ")":
            current += char
            depth = 0
            tokens.append(current)
            current = ""
        elif char.isspace() and not depth:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if current:
        tokens.append(current)
    return tokens


def username_problem(name: t.Any) -> str | None:
    """Why ``name`` cannot be a Redis user name in the role's files, or None."""
    if not isinstance(name, str) or not USERNAME.match(name):
        return "%r is not a valid user name (letters, digits, and . _ @ - after the first character)" % (name,)
    return None
