%%%----------------------------------------------------------------------
%%% File    : mod_unread_purge.erl
%%% Purpose : Purge by sender and retention preview, answered from the index
%%%           and carried out through mod_offline's store.
%%%
%%% A dry run reads only the index's sender view: how many messages of a
%%% sender (or of every sender of a domain) are unread, of how many users,
%%% and who holds most of them.
%%%
%%% A purge takes the affected users from the same view and removes, per
%%% user, the matching messages from the store the way ejabberd's own code
%%% removes single messages: on mnesia one transaction per user (read the
%%% user's records, delete_object the matching ones); on SQL the user's rows
%%% are read with their seq, matched by the from attribute of their XML (the
%%% sender's bare JID, compared as the index compares it) and deleted by seq,
%%% one transaction per user. It never edits the index: every node's index
%%% follows the store by its usual path (mnesia's table events, or the SQL
%%% change log), so an interrupted purge leaves store and index in step, and
%%% running it again removes what is left (a second run finds nothing).
%%% mod_offline's per-user count cache is flushed on every node after each
%%% user, as mod_offline does when it removes messages.
%%%
%%% Work is done in batches of users; between batches the purge waits until
%%% this node's index has applied the changes so far, so it never runs ahead
%%% of the index by more than a batch, and other traffic runs in between.
%%%----------------------------------------------------------------------
-module(mod_unread_purge).

-export([parse_sender/1, preview/3, purge/3, retention_cutoff/1, retention/3]).

-include("xmpp.hrl").
-include("mod_offline.hrl").
-include("ejabberd_sql_pt.hrl").

-define(BATCH_USERS, 200).
-define(SPOOL_COUNTER_CACHE, offline_msg_counter_cache).

-type match() :: {jid | domain, binary()}.
-export_type([match/0]).

%% "bob@example.com" (a resource is dropped) is one sender; "@example.com"
%% or "example.com" (no user part) is every sender of that domain, the
%% server's own JID included. Names are prepared as the index stores them.
-spec parse_sender(binary()) -> match().
parse_sender(<<>>) ->
    bad_param("the sender must be a bare JID or a domain", []);
parse_sender(<<$@, Domain/binary>>) ->
    {domain, domain(Domain)};
parse_sender(Sender) ->
    case binary:match(Sender, <<"@">>) of
	nomatch ->
	    {domain, domain(Sender)};
	_ ->
	    try jid:decode(Sender) of
		#jid{luser = <<>>} -> bad_param("Malformed sender: '~ts'", [Sender]);
		#jid{luser = U, lserver = S} -> {jid, <<U/binary, $@, S/binary>>}
	    catch _:_ -> bad_param("Malformed sender: '~ts'", [Sender])
	    end
    end.

%% A domain alone: no user part, no resource.
domain(D) ->
    try jid:decode(D) of
	#jid{luser = <<>>, lresource = <<>>, lserver = LD} when LD /= <<>> -> LD;
	_ -> bad_param("Malformed domain: '~ts'", [D])
    catch _:_ -> bad_param("Malformed domain: '~ts'", [D])
    end.

%% {Messages, Users, Top} over Hosts (each {Host, Index}); Top as
%% [{<<"user@host">>, Count}], largest first, at most Limit.
-spec preview([{binary(), unread_nif:index()}], match(), non_neg_integer()) ->
		     {non_neg_integer(), non_neg_integer(), [{binary(), pos_integer()}]}.
preview(Hosts, {Scope, Name}, Limit) ->
    Rows = [{H, unread_nif:sender_impact(Index, Name, Scope, Limit)} || {H, Index} <- Hosts],
    Messages = lists:sum([M || {_, {M, _, _, _}} <- Rows]),
    Users = lists:sum([U || {_, {_, U, _, _}} <- Rows]),
    Top = [{{U, H}, N} || {H, {_, _, _, T}} <- Rows, {U, N} <- T],
    {Messages, Users, user_top(Top, Limit)}.

%% Largest first; ties by user name, then host: each host's list is already
%% in that order (the index's), so merging the hosts' lists keeps it exact.
user_top(List, Limit) ->
    [{<<U/binary, $@, H/binary>>, N} || {{U, H}, N} <- top(List, Limit)].

top(List, Limit) ->
    lists:sublist(lists:sort(fun({U1, N1}, {U2, N2}) -> {-N1, U1} =< {-N2, U2} end, List),
		  Limit).

%% Removes the sender's messages on Hosts; returns {Messages, Users, Top}
%% of what the store removed.
-spec purge([{binary(), unread_nif:index()}], match(), non_neg_integer()) ->
		   {non_neg_integer(), non_neg_integer(), [{binary(), pos_integer()}]}.
purge(Hosts, {Scope, Name} = Match, Limit) ->
    Removed = lists:flatmap(
		fun({Host, Index}) ->
			Users = [U || {U, _} <- unread_nif:sender_users(Index, Name, Scope)],
			[{{U, Host}, N} || {U, N} <- in_batches(Host, Users, {sender, Match}), N > 0]
		end, Hosts),
    {lists:sum([N || {_, N} <- Removed]), length(Removed), user_top(Removed, Limit)}.

in_batches(_Host, [], _Match) ->
    [];
in_batches(Host, Users, Match) ->
    {Batch, Rest} = case length(Users) > ?BATCH_USERS of
			true -> lists:split(?BATCH_USERS, Users);
			false -> {Users, []}
		    end,
    Done = [{U, remove_user_messages(Host, U, Match, backend(Host))} || U <- Batch],
    %% Let the index catch up with the store (and others have their turn)
    %% before the next batch.
    _ = mod_unread_server:lookup(Host),
    Done ++ in_batches(Host, Rest, Match).

backend(Host) ->
    {ok, Backend} = mod_unread:backend(Host),
    Backend.

%% Removes one user's messages that match from the store, in one store
%% transaction, then flushes mod_offline's count cache of the user on every
%% node. Returns how many the store removed.
-spec remove_user_messages(binary(), binary(), {sender, match()} | {older_than, integer()},
			   module()) -> non_neg_integer().
remove_user_messages(Host, LUser, Match, mod_unread_mnesia) ->
    F = fun() ->
		Recs = mnesia:wread({offline_msg, {LUser, Host}}),
		Del = [R || R <- Recs, record_matches(R, Match)],
		lists:foreach(fun mnesia:delete_object/1, Del),
		length(Del)
	end,
    case mnesia:transaction(F) of
	{atomic, 0} -> 0;
	{atomic, N} -> flush_cache(Host, LUser), N;
	{aborted, Reason} -> erlang:error({purge_failed, LUser, Host, Reason})
    end;
remove_user_messages(Host, LUser, {sender, _} = Match, mod_unread_sql) ->
    %% The user's rows read as the index reads them (mod_unread_sql:records/2,
    %% one scan of them all), and matched as on mnesia: a row the index does
    %% not hold (one mod_offline could not deliver either) is not removed.
    F = fun() ->
		{selected, Rows} =
		    ejabberd_sql:sql_query_t(
		      ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s from spool"
			   " where username=%(LUser)s and server_host=%(Host)s")),
		lists:sum(
		  [begin
		       {updated, N} =
			   ejabberd_sql:sql_query_t(
			     ?SQL("delete from spool where username=%(LUser)s"
				  " and server_host=%(Host)s and seq=%(Seq)d")),
		       N
		   end || #offline_msg{expire = {seq, Seq}} = R <- mod_unread_sql:records(Host, Rows),
			  record_matches(R, Match)])
	end,
    case ejabberd_sql:sql_transaction(Host, F) of
	{atomic, 0} -> 0;
	{atomic, N} -> flush_cache(Host, LUser), N;
	{aborted, Reason} -> erlang:error({purge_failed, LUser, Host, Reason})
    end.

record_matches(#offline_msg{from = #jid{luser = U, lserver = S}}, {sender, Match}) ->
    sender_matches(bare(U, S), Match);
record_matches(#offline_msg{timestamp = TS}, {older_than, Cutoff}) ->
    usec(TS) < Cutoff;
record_matches(_, _) ->
    false.

%% As the index names senders: "luser@lserver", or "lserver" for a server.
bare(<<>>, S) -> S;
bare(U, S) -> <<U/binary, $@, S/binary>>.

sender_matches(Sender, {jid, Name}) -> Sender == Name;
sender_matches(Sender, {domain, D}) ->
    case binary:split(Sender, <<"@">>) of
	[S] -> S == D;
	[_, S] -> S == D
    end.

usec({Mega, Sec, Micro}) -> (Mega * 1000000 + Sec) * 1000000 + Micro;
usec(_) -> 0.

%% As mod_offline:flush_cache/3 (not exported): the counter cache of the
%% user, on the nodes mod_offline keeps it on.
flush_cache(Host, LUser) ->
    Mod = gen_mod:db_mod(Host, mod_offline),
    UseCache = case erlang:function_exported(Mod, use_cache, 1) of
		   true -> Mod:use_cache(Host);
		   false -> mod_offline_opt:use_cache(Host)
	       end,
    case UseCache of
	true ->
	    Nodes = case erlang:function_exported(Mod, cache_nodes, 1) of
			true -> Mod:cache_nodes(Host);
			false -> ejabberd_cluster:get_nodes()
		    end,
	    ets_cache:delete(?SPOOL_COUNTER_CACHE, {LUser, Host}, Nodes);
	false ->
	    ok
    end.

%% The cutoff delete_old_messages Days uses on mnesia: messages stored
%% before the start of the second Days days ago, in microseconds.
-spec retention_cutoff(non_neg_integer()) -> integer().
retention_cutoff(Days) ->
    (erlang:system_time(second) - 86400 * Days) * 1000000.

%% {Messages, Users, TopSenders} older than Cutoff over Hosts.
retention(Hosts, Cutoff, Limit) ->
    Rows = [unread_nif:older_than(Index, Cutoff, Limit) || {_, Index} <- Hosts],
    Senders = lists:foldl(fun({S, N}, Acc) -> maps:update_with(S, fun(M) -> M + N end, N, Acc) end,
			  #{}, [SN || {_, _, Top} <- Rows, SN <- Top]),
    {lists:sum([M || {M, _, _} <- Rows]), lists:sum([U || {_, U, _} <- Rows]),
     top(maps:to_list(Senders), Limit)}.

bad_param(Fmt, Args) ->
    throw({invalid_parameter, iolist_to_binary(io_lib:format(Fmt, Args))}).
