%%%----------------------------------------------------------------------
%%% File    : mod_unread_commands.erl
%%% Purpose : ejabberd commands of mod_unread: served by ejabberdctl and by
%%%           mod_http_api (POST /api/<command>) alike.
%%%
%%% Errors: an unknown user or host is {error, not_exists, ...} (HTTP 404),
%%% malformed input throws {invalid_parameter, Msg} (HTTP 400), an index
%%% still being built is {error, rebuilding, ...} (HTTP 500, retry).
%%%----------------------------------------------------------------------
-module(mod_unread_commands).

-export([get_commands_spec/0]).
-export([unread_count/1, unread_counts/1, unread_list/4, unread_senders/1,
	 unread_count_from/2, unread_top/2,
	 unread_stats/0, unread_cluster/0, unread_resync/0,
	 unread_resync_user/1, unread_health/1, unread_health_users/1,
	 unread_purge_sender/4, unread_retention_preview/3]).
%% Called on the other nodes of the cluster by unread_stats: local_stats/1
%% by this version, local_stats/0 by versions before the backend field.
-export([local_stats/0, local_stats/1]).

-include("ejabberd_commands.hrl").
-include("xmpp.hrl").
-include("mod_offline.hrl").

-define(MAX_LIST, 1000).
%% Users per unread_counts call: ~10 ms of work (see docs/mod_unread.md).
-define(MAX_COUNTS, 10000).

get_commands_spec() ->
    [#ejabberd_commands{
	name = unread_count, tags = [offline],
	desc = "Number of unread (offline) messages of a user",
	longdesc = "The user is 'alice@example.com', or 'alice' for the "
		   "module's default host. An unknown user is an error.",
	module = ?MODULE, function = unread_count,
	args = [{user, binary}],
	args_desc = ["User JID, or user name on the default host"],
	args_example = [<<"alice@example.com">>],
	result = {count, integer},
	result_desc = "Number of unread messages",
	result_example = 5},
     #ejabberd_commands{
	name = unread_counts, tags = [offline],
	desc = "Numbers of unread (offline) messages of many users",
	longdesc = "At most 10000 users per call; one result per user "
		   "given, in the order given (duplicates included). Each "
		   "user is resolved as by unread_count ('alice' is alice "
		   "on the module's default host) and named in the result "
		   "as resolved, as a bare JID. A user that does not exist, "
		   "a malformed name and a host the module does not index "
		   "give count -1 (the name then as given), without failing "
		   "the others. From ejabberdctl the list is a JSON array: "
		   "ejabberdctl unread_counts '[\"alice\",\"bob@example.com\"]'.",
	module = ?MODULE, function = unread_counts,
	args = [{users, {list, {user, binary}}}],
	args_desc = ["User JIDs, or user names on the default host "
		     "(at most 10000)"],
	args_example = [[<<"alice@example.com">>, <<"bob">>]],
	result = {counts, {list, {count, {tuple, [{user, string},
						   {count, integer}]}}}},
	result_desc = "Each user as resolved and its number of unread "
		      "messages, -1 for no such user",
	result_example = [{"alice@example.com", 5}, {"bob@example.com", 0}]},
     #ejabberd_commands{
	name = unread_list, tags = [offline],
	desc = "Unread messages of a user, newest first",
	longdesc = "Pages with limit (at most 1000) and offset; 'from' "
		   "keeps only messages of that sender's bare JID "
		   "(\"\" for all; a name without a domain is on the "
		   "module's default host, like the user). Timestamps are "
		   "UTC, ISO 8601.",
	module = ?MODULE, function = unread_list,
	args = [{user, binary}, {limit, integer}, {offset, integer},
		{from, binary}],
	args_desc = ["User JID, or user name on the default host",
		     "Maximum number of messages", "Messages to skip",
		     "Sender JID, or user name on the default host, or "
		     "empty for all senders"],
	args_example = [<<"alice@example.com">>, 20, 0, <<"">>],
	result = {messages,
		  {list, {message, {tuple, [{id, integer},
					    {timestamp, string},
					    {from, string},
					    {type, string},
					    {subject, string},
					    {preview, string},
					    {body, string}]}}}},
	result_example = [{1700000000123456, "2023-11-14T22:13:20.123456Z",
			   "bob@example.com", "chat", "", "Hello Alice",
			   "Hello Alice"}]},
     #ejabberd_commands{
	name = unread_senders, tags = [offline],
	desc = "Per-sender counts of a user's unread messages, largest first",
	module = ?MODULE, function = unread_senders,
	args = [{user, binary}],
	args_desc = ["User JID, or user name on the default host"],
	args_example = [<<"alice@example.com">>],
	result = {senders, {list, {sender, {tuple, [{sender, string},
						     {count, integer}]}}}},
	result_example = [{"bob@example.com", 3}, {"carol@example.com", 1}]},
     #ejabberd_commands{
	name = unread_count_from, tags = [offline],
	desc = "Number of a user's unread messages from one sender",
	longdesc = "Both names are resolved as everywhere else: a name "
		   "without a domain is on the module's default host. The "
		   "result names the sender's bare JID as resolved.",
	module = ?MODULE, function = unread_count_from,
	args = [{user, binary}, {from, binary}],
	args_desc = ["User JID, or user name on the default host",
		     "Sender JID, or user name on the default host"],
	args_example = [<<"alice@example.com">>, <<"bob">>],
	result = {count, {tuple, [{sender, string}, {count, integer}]}},
	result_desc = "The sender's bare JID and the number of its unread "
		      "messages to the user",
	result_example = {"bob@example.com", 3}},
     #ejabberd_commands{
	name = unread_top, tags = [offline],
	desc = "Users of a host with the most unread messages",
	longdesc = "Host \"\" means every host this node indexes, "
		   "merged by count.",
	module = ?MODULE, function = unread_top,
	args = [{host, binary}, {limit, integer}],
	args_desc = ["Virtual host, or empty for every indexed host",
		     "Maximum number of users (at most 1000)"],
	args_example = [<<"example.com">>, 10],
	result = {users, {list, {user, {tuple, [{user, string},
						 {count, integer}]}}}},
	result_example = [{"alice@example.com", 42}, {"bob@example.com", 7}]},
     #ejabberd_commands{
	name = unread_stats, tags = [offline],
	desc = "State and backend of the unread index on every node of the "
	       "cluster",
	longdesc = "Per node and host: state (ready or rebuilding; "
		   "'stale: store unreachable since <time>' while the index "
		   "cannot read the store's changes and answers from what it "
		   "last knew; "
		   "'refused: <reason>' for a host where the module is "
		   "configured but cannot index the store; for a node "
		   "without an index: not loaded or unreachable), unread "
		   "messages, users with unread messages, index memory in "
		   "bytes, time of the last (re)build and how long it took, "
		   "and the backend: the store behind the index (mnesia; "
		   "sql/<sql_type> for SQL, e.g. sql/pgsql; for a refused "
		   "host the db_type it was refused with; empty for a node "
		   "without an index). Each node keeps its own index.",
	module = ?MODULE, function = unread_stats,
	args = [],
	result = {hosts, {list, {host, {tuple, [{node, string},
						 {host, string},
						 {state, string},
						 {total, integer},
						 {users, integer},
						 {memory, integer},
						 {last_rebuild, string},
						 {rebuild_ms, integer},
						 %% Last: older clients read
						 %% fields by name or position.
						 {backend, string}]}}}},
	result_example = [{"ejabberd@node1", "example.com", "ready", 1200, 300,
			   180000, "2023-11-14T22:13:20Z", 85, "mnesia"},
			  {"ejabberd@node2", "example.com", "ready", 1200, 300,
			   180000, "2023-11-14T22:13:21Z", 91, "mnesia"}]},
     #ejabberd_commands{
	name = unread_cluster, tags = [offline, cluster],
	desc = "Nodes of the cluster as this node sees them",
	longdesc = "Every node of this node's mnesia cluster, with its "
		   "state: self (the answering node), running, or down "
		   "(a member that is not running now).",
	module = ?MODULE, function = unread_cluster,
	args = [],
	result = {nodes, {list, {node, {tuple, [{node, string},
						 {state, string}]}}}},
	result_example = [{"ejabberd@node1", "self"},
			  {"ejabberd@node2", "running"},
			  {"ejabberd@node3", "down"}]},
     #ejabberd_commands{
	name = unread_health, tags = [offline],
	desc = "Backlog health of the unread index: oldest message, queue "
	       "length histogram, users at or near their offline limit",
	longdesc = "One row per host (host \"\" for every host this node "
		   "indexes). state is ready, rebuilding (the first build: "
		   "every number is 0 until it ends) or 'stale: store "
		   "unreachable since <time>'. oldest_user, oldest_time (UTC, "
		   "ISO 8601) and oldest_age (seconds) name the oldest unread "
		   "message (empty and 0 when there is none). buckets is the "
		   "histogram of queue lengths over the users with unread "
		   "messages: for each bound le (1, 5, 10, 50, 100, 500, 1000, "
		   "5000, +Inf) the users with at most le messages, "
		   "cumulative. A user's limit is what mod_offline's "
		   "access_max_user_messages rule gives it; at_limit counts "
		   "users with at least their limit (mod_offline refuses "
		   "their new messages), near_limit those with at least "
		   "near_fraction (option health_near_limit) of it but below "
		   "it. unread_health_users lists them.",
	module = ?MODULE, function = unread_health,
	args = [{host, binary}],
	args_desc = ["Virtual host, or empty for every indexed host"],
	args_example = [<<"example.com">>],
	result = {hosts, {list, {host, {tuple, [{host, string},
						 {state, string},
						 {users, integer},
						 {messages, integer},
						 {oldest_user, string},
						 {oldest_time, string},
						 {oldest_age, integer},
						 {near_fraction, string},
						 {near_limit, integer},
						 {at_limit, integer},
						 {buckets, {list, {bucket, {tuple, [{le, string},
										  {count, integer}]}}}}]}}}},
	result_example = [{"example.com", "ready", 300, 1200, "alice@example.com",
			   "2023-11-14T22:13:20.123456Z", 86400, "0.9", 2, 1,
			   [{"1", 120}, {"5", 250}, {"10", 280}, {"50", 296},
			    {"100", 299}, {"500", 300}, {"1000", 300}, {"5000", 300},
			    {"+Inf", 300}]}]},
     #ejabberd_commands{
	name = unread_health_users, tags = [offline],
	desc = "Users at or near their offline message limit",
	longdesc = "Host \"\" means every host this node indexes. Each "
		   "user with its unread messages, its limit (mod_offline's "
		   "access_max_user_messages rule for that user) and its "
		   "state: at_limit (new messages to it are refused) or "
		   "near_limit (at least the module's health_near_limit "
		   "fraction of the limit). At limit first, then by count, "
		   "largest first. A host whose index is first being built "
		   "lists nobody (its unread_health row says rebuilding).",
	module = ?MODULE, function = unread_health_users,
	args = [{host, binary}],
	args_desc = ["Virtual host, or empty for every indexed host"],
	args_example = [<<"example.com">>],
	result = {users, {list, {user, {tuple, [{user, string},
						 {count, integer},
						 {limit, integer},
						 {state, string}]}}}},
	result_example = [{"alice@example.com", 100, 100, "at_limit"},
			  {"bob@example.com", 93, 100, "near_limit"}]},
     #ejabberd_commands{
	name = unread_resync, tags = [offline],
	desc = "Re-read the whole offline store into the index",
	longdesc = "Lists the users whose unread messages differed between "
		   "the index and the store (normally none).",
	module = ?MODULE, function = unread_resync,
	args = [],
	result = {differences,
		  {list, {difference, {tuple, [{user, string},
					       {index_count, integer},
					       {store_count, integer},
					       {added, integer},
					       {removed, integer}]}}}},
	result_example = []},
     #ejabberd_commands{
	name = unread_resync_user, tags = [offline],
	desc = "Re-read one user's offline messages into the index",
	module = ?MODULE, function = unread_resync_user,
	args = [{user, binary}],
	args_desc = ["User JID, or user name on the default host"],
	args_example = [<<"alice@example.com">>],
	result = {difference, {tuple, [{user, string},
				       {index_count, integer},
				       {store_count, integer},
				       {added, integer},
				       {removed, integer}]}},
	result_example = {"alice@example.com", 3, 3, 0, 0}},
     #ejabberd_commands{
	name = unread_purge_sender, tags = [offline, purge],
	desc = "Remove (or count) every unread message of one sender or "
	       "of a whole sender domain",
	longdesc = "The sender is a bare JID ('spam@bad.example'; a "
		   "resource is ignored), or a domain ('@bad.example' or "
		   "'bad.example'): every sender of that domain, its server's "
		   "own JID included. Host \"\" means every host this node "
		   "indexes. With dry_run 1 nothing is removed: the numbers "
		   "come from the index alone (no scan of the store). With "
		   "dry_run 0 the matching messages are removed through "
		   "mod_offline's store, one store transaction per user, in "
		   "batches; every node's index follows the store as it does "
		   "for any other removal, and mod_offline's count cache of "
		   "each affected user is flushed. The result is what the "
		   "store removed; running it again removes nothing more. "
		   "'top' lists the users with most of the messages (at most "
		   "'limit', at most 1000).",
	module = ?MODULE, function = unread_purge_sender,
	args = [{host, binary}, {sender, binary}, {dry_run, integer}, {limit, integer}],
	args_desc = ["Virtual host, or empty for every indexed host",
		     "Sender bare JID, or @domain / domain for every sender of it",
		     "1: only count, 0: remove",
		     "Maximum number of users listed (at most 1000)"],
	args_example = [<<"">>, <<"spam@bad.example">>, 1, 10],
	result = {purge, {tuple, [{dry_run, integer},
				  {messages, integer},
				  {users, integer},
				  {top, {list, {user, {tuple, [{user, string},
							       {count, integer}]}}}}]}},
	result_desc = "Whether nothing was removed (1), the messages and "
		      "users matched (dry run) or removed, and the users "
		      "with most of them",
	result_example = {1, 30000, 10000, [{"alice@example.com", 12},
					    {"bob@example.com", 7}]}},
     #ejabberd_commands{
	name = unread_retention_preview, tags = [offline, purge],
	desc = "What delete_old_messages DAYS would remove, from the index",
	longdesc = "Messages stored more than 'days' days ago (the cutoff "
		   "delete_old_messages uses: now minus days x 86400 s, to "
		   "the second), how many users hold them, and the senders "
		   "with most of them (at most 'limit', at most 1000; over "
		   "several hosts each host's top senders are merged). Host "
		   "\"\" means every host this node indexes; "
		   "delete_old_messages itself removes old messages of every "
		   "host. Nothing is removed. On SQL storage the index dates "
		   "a message by the time mod_offline stamped in it, while "
		   "delete_old_messages compares spool.created_at with the "
		   "database's clock: messages stored within a second or so "
		   "of the cutoff, or rows written with another date, may be "
		   "counted differently.",
	module = ?MODULE, function = unread_retention_preview,
	args = [{host, binary}, {days, integer}, {limit, integer}],
	args_desc = ["Virtual host, or empty for every indexed host",
		     "Age in days, as for delete_old_messages",
		     "Maximum number of senders listed (at most 1000)"],
	args_example = [<<"">>, 31, 10],
	result = {retention, {tuple, [{cutoff, string},
				      {messages, integer},
				      {users, integer},
				      {top_senders, {list, {sender, {tuple, [{sender, string},
									     {count, integer}]}}}}]}},
	result_desc = "The cutoff (UTC), the messages older than it, their "
		      "users, and the senders with most of them",
	result_example = {"2023-10-14T22:13:20Z", 5200, 830,
			  [{"news@example.com", 4000}, {"bob@example.com", 12}]}}].

%%%===================================================================
%%% Commands
%%%===================================================================
unread_count(User) ->
    run(fun() -> count(User) end).

unread_counts(Users) ->
    run(fun() -> counts(Users) end).

unread_list(User, Limit, Offset, From) ->
    run(fun() -> list(User, Limit, Offset, From) end).

unread_senders(User) ->
    run(fun() -> senders(User) end).

unread_count_from(User, From) ->
    run(fun() -> count_from(User, From) end).

unread_top(Host, Limit) ->
    run(fun() -> top(Host, Limit) end).

unread_stats() ->
    run(fun stats/0).

unread_cluster() ->
    run(fun cluster/0).

unread_resync() ->
    run(fun resync/0).

unread_resync_user(User) ->
    run(fun() -> resync_user(User) end).

unread_health(Host) ->
    run(fun() -> health(Host) end).

unread_health_users(Host) ->
    run(fun() -> health_users(Host) end).

unread_purge_sender(Host, Sender, DryRun, Limit) ->
    run(fun() -> purge_sender(Host, Sender, DryRun, Limit) end).

unread_retention_preview(Host, Days, Limit) ->
    run(fun() -> retention_preview(Host, Days, Limit) end).

%% Errors found deep down are thrown as the command's result.
run(F) ->
    try F()
    catch throw:{?MODULE, Result} -> Result
    end.

count(User) ->
    with_user(User, fun({LUser, _Host}, {ok, Index}) ->
			    unread_nif:count(Index, LUser);
		       ({LUser, Host}, rebuilding) ->
			    %% The store is the truth; ask it while the index is built.
			    mod_offline:count_offline_messages(LUser, Host)
		    end).

%% Each host is looked up (and its server's mailbox checked for pending
%% changes) once per call, not once per user. Users whose count is 0 may not
%% exist: they are checked together at the end with one
%% ejabberd_auth:which_users_exists/1 (one query for SQL auth; for mnesia
%% auth one passwd read per user, ~30 us each when the auth cache misses).
%% A name that cannot be resolved, a host that is not indexed and a user
%% that does not exist get -1: one bad line of a list fails nothing else.
counts(Users) when length(Users) > ?MAX_COUNTS ->
    bad_param("at most ~B users per call, got ~B", [?MAX_COUNTS, length(Users)]);
counts(Users) ->
    {Rows, _Hosts} = lists:mapfoldl(fun bulk_count/2, #{}, Users),
    Zero = lists:usort([US || {_, {zero, US}} <- Rows]),
    Exist = case Zero of
		[] -> #{};
		_ -> maps:from_keys(ejabberd_auth:which_users_exists(Zero), true)
	    end,
    [{Name, case N of
		{zero, US} when is_map_key(US, Exist) -> 0;
		{zero, _} -> -1;
		_ -> N
	    end} || {Name, N} <- Rows].

%% {ResolvedName, Count | -1 | {zero, {LUser, Host}}}.
bulk_count(User, Hosts) ->
    try resolve_user(User) of
	{LUser, Host} = US ->
	    {State, Hosts1} = case Hosts of
				  #{Host := S} -> {S, Hosts};
				  _ -> S = mod_unread_server:lookup(Host),
				       {S, Hosts#{Host => S}}
			      end,
	    N = case State of
		    {ok, Index} -> unread_nif:count(Index, LUser);
		    %% As unread_count: the store answers while the index is built.
		    rebuilding -> mod_offline:count_offline_messages(LUser, Host);
		    disabled -> -1
		end,
	    {{<<LUser/binary, $@, Host/binary>>, if N == 0 -> {zero, US}; true -> N end},
	     Hosts1}
    catch
	throw:{invalid_parameter, _} -> {{User, -1}, Hosts};
	throw:{?MODULE, _} -> {{User, -1}, Hosts}
    end.

list(User, Limit, Offset, From) ->
    check_range(limit, Limit, 0, ?MAX_LIST),
    check_range(offset, Offset, 0, 1 bsl 32),
    Sender = resolve_sender(From),
    with_ready_user(
      User,
      fun({LUser, Host}, Index) ->
	      Page = unread_nif:page(Index, LUser, Offset, Limit, Sender),
	      Bodies = bodies(LUser, Host, [{Id, Key} || {Id, Key, _, _, _, _} <- Page]),
	      [{Id, iso8601(Id), F, atom_to_list(Type), Subject, Preview,
		maps:get({Id, Key}, Bodies, Preview)}
	       || {Id, Key, F, Type, Subject, Preview} <- Page]
      end).

senders(User) ->
    with_ready_user(User, fun({LUser, _}, Index) -> unread_nif:senders(Index, LUser) end).

count_from(_User, <<>>) ->
    bad_param("from must name a sender", []);
count_from(User, From) ->
    Sender = resolve_sender(From),
    with_ready_user(
      User,
      fun({LUser, Host}, Index) ->
	      case lists:keyfind(Sender, 1, unread_nif:senders(Index, LUser)) of
		  {_, N} ->
		      {Sender, N};
		  false ->
		      %% No message from Sender: still an error for an unknown user.
		      case ejabberd_auth:user_exists(LUser, Host) of
			  true -> {Sender, 0};
			  false -> not_exists("User ~ts@~ts does not exist", [LUser, Host])
		      end
	      end
      end).

top(<<>>, Limit) ->
    check_range(limit, Limit, 0, ?MAX_LIST),
    case mod_unread:loaded_hosts() of
	[] -> no_default_host();
	Hosts -> merge_top([host_top(H, Limit) || H <- Hosts], Limit)
    end;
top(Host, Limit) ->
    check_range(limit, Limit, 0, ?MAX_LIST),
    host_top(check_host(Host), Limit).

host_top(LHost, Limit) ->
    case mod_unread_server:lookup(LHost) of
	{ok, Index} ->
	    [{<<U/binary, $@, LHost/binary>>, N} || {U, N} <- unread_nif:top(Index, Limit)];
	Other ->
	    unavailable(LHost, Other)
    end.

%% Each host's list is its own top Limit, so the merged top Limit is among
%% them. Same order as the index's: count descending, then name.
merge_top(Lists, Limit) ->
    Sorted = lists:sort(fun({U1, N1}, {U2, N2}) -> {-N1, U1} =< {-N2, U2} end,
			lists:append(Lists)),
    lists:sublist(Sorted, Limit).

stats() ->
    lists:flatmap(fun node_stats/1, lists:usort([node() | ejabberd_cluster:get_nodes()])).

node_stats(Node) when Node == node() ->
    local_stats(with_backend);
node_stats(Node) ->
    try remote_stats(Node) of
	[] -> [absent(Node, "not loaded")];
	Rows -> [with_backend(R) || R <- Rows]
    catch
	error:{exception, undef, _} -> [absent(Node, "not loaded")];
	_:_ -> [absent(Node, "unreachable")]
    end.

%% A node running a mod_unread from before the backend field (a cluster
%% being upgraded) has only local_stats/0; a node without the module has
%% neither.
remote_stats(Node) ->
    try erpc:call(Node, ?MODULE, local_stats, [with_backend], timer:seconds(5))
    catch error:{exception, undef, _} ->
	    erpc:call(Node, ?MODULE, local_stats, [], timer:seconds(5))
    end.

absent(Node, State) ->
    {atom_to_binary(Node), <<>>, State, 0, 0, 0, "", 0, <<>>}.

%% A row of a node running a mod_unread from before the backend field:
%% every row of the result has the same fields.
with_backend(Row) when tuple_size(Row) == 8 -> erlang:append_element(Row, <<>>);
with_backend(Row) -> Row.

%% This node's rows as a version before the backend field makes them, for
%% such a node's unread_stats: its result has one field less.
local_stats() ->
    [erlang:delete_element(9, Row) || Row <- local_stats(with_backend)].

local_stats(with_backend) ->
    Node = atom_to_binary(node()),
    lists:map(
      fun(Host) ->
	      #{state := St, total := Total, users := Users, memory := Mem,
		last_rebuild := Last, rebuild_ms := Ms} = Info = mod_unread_server:info(Host),
	      {Node, Host, state_text(St, maps:get(store_status, Info, ok)), Total, Users, Mem,
	       case Last of
		   undefined -> "";
		   _ -> calendar:system_time_to_rfc3339(Last, [{offset, "Z"}])
	       end,
	       case Ms of undefined -> 0; _ -> Ms end,
	       %% No backend from a server still running the code of
	       %% before the field, for the moment of an upgrade.
	       case Info of
		   #{backend := Backend} -> mod_unread:backend_name(Host, Backend);
		   _ -> <<>>
	       end}
      end, mod_unread:loaded_hosts()) ++
	[{Node, Host, State, 0, 0, 0, "", 0, mod_unread:refused_backend_name(Host)}
	 || {Host, State} <- mod_unread:refused_hosts()].

%% An index whose backend cannot read the store's changes answers from
%% what it last knew: say so, and since when.
state_text(ready, {unreachable, Since}) ->
    "stale: store unreachable since " ++
	calendar:system_time_to_rfc3339(Since, [{offset, "Z"}]);
state_text(St, _Store) ->
    atom_to_list(St).

%% Rows sorted by node name; every running db node is a known one too, but
%% both lists are read, so a node is never missing whatever their order.
cluster() ->
    Running = mnesia:system_info(running_db_nodes),
    Known = lists:usort(mnesia:system_info(db_nodes) ++ Running),
    [{atom_to_binary(N),
      if N == node() -> "self";
	 true -> case lists:member(N, Running) of
		     true -> "running";
		     false -> "down"
		 end
      end} || N <- Known].

resync() ->
    lists:flatmap(
      fun(Host) ->
	      case mod_unread_server:resync(Host) of
		  {ok, Diffs} ->
		      [{<<U/binary, $@, Host/binary>>, Before, After, Added, Removed}
		       || {U, Before, After, Added, Removed} <- Diffs];
		  {error, Reason} ->
		      throw_result({error, resync_failed, 1,
				    io_lib:format("Resync of ~ts failed: ~p",
						  [Host, Reason])})
	      end
      end, mod_unread:loaded_hosts()).

resync_user(User) ->
    {LUser, Host} = resolve_user(User),
    case mod_unread_server:lookup(Host) of
	disabled -> unavailable(Host, disabled);
	_ ->
	    case mod_unread_server:resync_user(Host, LUser) of
		{_, Before, After, Added, Removed} ->
		    {<<LUser/binary, $@, Host/binary>>, Before, After, Added, Removed};
		{error, Why} ->
		    throw_result({error, resync_failed, 1,
				  io_lib:format("Reading ~ts@~ts from the store failed: ~p",
						[LUser, Host, Why])})
	    end
    end.

%% The hosts a health command answers for: one host, or every indexed one.
health_hosts(<<>>) ->
    case mod_unread:loaded_hosts() of
	[] -> no_default_host();
	Hosts -> Hosts
    end;
health_hosts(Host) ->
    LHost = check_host(Host),
    case mod_unread_server:is_indexed_host(LHost) of
	true -> [LHost];
	false -> unavailable(LHost, disabled)
    end.

health(Host) ->
    [health_row(mod_unread_health:host(H)) || H <- health_hosts(Host)].

health_row(#{host := Host, state := St, users := Users, messages := Msgs, oldest := Oldest,
	     near_fraction := Fraction, limited := Limited, buckets := Buckets}) ->
    {OUser, OTime, OAge} =
	case Oldest of
	    none -> {<<>>, "", 0};
	    {Id, U} -> {<<U/binary, $@, Host/binary>>, iso8601(Id),
			max(0, (erlang:system_time(microsecond) - Id) div 1000000)}
	end,
    State = case St of
		{stale, Since} -> state_text(ready, {unreachable, Since});
		_ -> atom_to_list(St)
	    end,
    {Host, State, Users, Msgs, OUser, OTime, OAge,
     float_to_list(Fraction, [short]),
     length([x || {_, _, _, near_limit} <- Limited]),
     length([x || {_, _, _, at_limit} <- Limited]),
     [{integer_to_list(Le), N} || {Le, N} <- Buckets] ++ [{"+Inf", Users}]}.

health_users(Host) ->
    lists:flatmap(
      fun(H) ->
	      %% A host being first built has no one listed: its
	      %% unread_health row says rebuilding.
	      case mod_unread_health:host(H) of
		  #{limited := Limited} ->
		      [{<<U/binary, $@, H/binary>>, N, Limit, atom_to_list(St)}
		       || {U, N, Limit, St} <- Limited]
	      end
      end, health_hosts(Host)).


purge_sender(Host, Sender, DryRun, Limit) ->
    check_range(dry_run, DryRun, 0, 1),
    check_range(limit, Limit, 0, ?MAX_LIST),
    Match = mod_unread_purge:parse_sender(Sender),
    Indexes = ready_indexes(Host),
    {Messages, Users, Top} =
	case DryRun of
	    1 -> mod_unread_purge:preview(Indexes, Match, Limit);
	    0 ->
		try mod_unread_purge:purge(Indexes, Match, Limit)
		catch error:{purge_failed, LUser, LHost, Why} ->
			throw_result({error, purge_failed, 1,
				      io_lib:format("Removing messages of ~ts@~ts from the "
						    "store failed: ~p; what was removed so far "
						    "stays removed, run the purge again",
						    [LUser, LHost, Why])})
		end
	end,
    {DryRun, Messages, Users, Top}.

retention_preview(Host, Days, Limit) ->
    check_range(days, Days, 0, 1 bsl 20),
    check_range(limit, Limit, 0, ?MAX_LIST),
    Indexes = ready_indexes(Host),
    Cutoff = mod_unread_purge:retention_cutoff(Days),
    {Messages, Users, Top} = mod_unread_purge:retention(Indexes, Cutoff, Limit),
    {iso8601(Cutoff), Messages, Users, Top}.

%% [{Host, Index}] of Host, or of every indexed host for <<>>; every one
%% must be ready (a purge or preview over a half-built index would miss).
ready_indexes(<<>>) ->
    case mod_unread:loaded_hosts() of
	[] -> no_default_host();
	Hosts -> [ready_index(H) || H <- Hosts]
    end;
ready_indexes(Host) ->
    [ready_index(check_host(Host))].

ready_index(Host) ->
    case mod_unread_server:lookup(Host) of
	{ok, Index} -> {Host, Index};
	Other -> unavailable(Host, Other)
    end.

%%%===================================================================
%%% Internal functions
%%%===================================================================
with_ready_user(User, Fun) ->
    with_user(User, fun(US, {ok, Index}) -> Fun(US, Index);
		       ({_, Host}, rebuilding) -> unavailable(Host, rebuilding)
		    end).

%% Runs Fun on a user of a host where mod_unread runs. Existence is checked
%% only when the answer is empty: a user with unread messages exists (the
%% store refuses messages for unknown users and drops a removed user's).
with_user(User, Fun) ->
    {LUser, Host} = US = resolve_user(User),
    case mod_unread_server:lookup(Host) of
	disabled ->
	    unavailable(Host, disabled);
	State ->
	    case Fun(US, State) of
		Empty when Empty == 0; Empty == [] ->
		    case ejabberd_auth:user_exists(LUser, Host) of
			true -> Empty;
			false -> not_exists("User ~ts@~ts does not exist", [LUser, Host])
		    end;
		Result ->
		    Result
	    end
    end.

resolve_sender(From) ->
    case mod_unread_jid:sender(From, mod_unread:default_host()) of
	no_default_host -> no_default_host();
	Sender -> Sender
    end.

%% See mod_unread_jid for the forms a name can take.
resolve_user(User) ->
    case mod_unread_jid:user(User, mod_unread:default_host(),
			     fun mod_unread_server:is_indexed_host/1) of
	no_default_host -> no_default_host();
	US -> US
    end.

%% A bare name on a node whose every mod_unread host is refused: say why,
%% not just that no host runs the module.
no_default_host() ->
    case mod_unread:refused_hosts() of
	[] ->
	    not_exists("mod_unread runs on no host here", []);
	Refused ->
	    not_exists("mod_unread indexes no host here: ~ts; see the error "
		       "in ejabberd.log",
		       [lists:join(", ", [[H, " (", S, ")"] || {H, S} <- Refused])])
    end.

check_host(Host) ->
    case jid:nameprep(Host) of
	error ->
	    bad_param("Malformed host: '~ts'", [Host]);
	LHost ->
	    case ejabberd_router:is_my_host(LHost) of
		true -> LHost;
		false -> not_exists("Host ~ts is not served by this node", [LHost])
	    end
    end.

check_range(_Name, N, Min, Max) when is_integer(N), N >= Min, N =< Max -> ok;
check_range(Name, N, Min, Max) ->
    bad_param("~ts must be between ~B and ~B, got ~p", [Name, Min, Max, N]).

unavailable(Host, disabled) ->
    case mod_unread:refusal(Host) of
	undefined ->
	    not_exists("mod_unread is not enabled for host ~ts; add it under "
		       "'modules:' in ejabberd.yml", [Host]);
	Why ->
	    not_exists("mod_unread does not index host ~ts (~ts); see the "
		       "error in ejabberd.log", [Host, mod_unread:refusal_state(Why)])
    end;
unavailable(Host, rebuilding) ->
    throw_result({error, rebuilding, 1,
		  io_lib:format("The unread index of ~ts is being rebuilt "
				"from the store; retry in a moment", [Host])}).

not_exists(Fmt, Args) ->
    throw_result({error, not_exists, 1, io_lib:format(Fmt, Args)}).

bad_param(Fmt, Args) ->
    throw({invalid_parameter, iolist_to_binary(io_lib:format(Fmt, Args))}).

%% An error tuple is the command's result, wherever it is detected.
throw_result(Result) ->
    throw({?MODULE, Result}).

%% Bodies of the listed messages, read from the store: the index keeps only
%% previews. Records are matched on the index's own identity of a message
%% (id and key), since records stored in the same microsecond share an id,
%% and the NIF picks each body as it picked the preview.
bodies(_LUser, _Host, []) ->
    #{};
bodies(LUser, Host, Wanted) ->
    {ok, Backend} = mod_unread:backend(Host),
    Records = try Backend:read_user(LUser, Host)
	      catch error:{store_unreachable, Why} ->
		      throw_result({error, store_unreachable, 1,
				    io_lib:format("The offline store of ~ts cannot be read "
						  "(~p), so message bodies cannot be listed; "
						  "counts still answer from the index. Retry "
						  "when the database is back", [Host, Why])})
	      end,
    maps:from_list([{{Id, Key}, Body} || {Id, Key, Body} <- unread_nif:bodies(Records, Wanted)]).

iso8601(Usec) ->
    calendar:system_time_to_rfc3339(Usec, [{unit, microsecond}, {offset, "Z"}]).
