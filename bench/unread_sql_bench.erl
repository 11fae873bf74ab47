%%%----------------------------------------------------------------------
%%% File    : unread_sql_bench.erl
%%% Purpose : Server-side benchmarks of mod_unread on mod_offline's SQL
%%%           store (mod_unread_sql), run inside real ejabberd nodes (see
%%%           bench/sql_bench.py), each beside the stock ejabberd way of
%%%           answering the same question, in one run.
%%%----------------------------------------------------------------------
-module(unread_sql_bench).

-export([probe_row/1, wait_count/3, count/2, store/3, top/1, rebuild/2, ensure_module/2,
	 breakdown/1, lag/4, remove_users/2, triggers/1]).

-include("xmpp.hrl").
-include("mod_offline.hrl").
-include("ejabberd_sql_pt.hrl").

-define(STOCK_CACHE, offline_msg_counter_cache).
-define(CHUNK, 1000).

%% One message routed to an offline user, and the spool row ejabberd wrote
%% for it (its seq): the shape the bench's SQL fill copies.
probe_row(Host) ->
    U = <<"shape_probe">>,
    _ = ejabberd_auth:try_register(U, Host, <<"pw">>),
    mod_offline:remove_user(U, Host),
    ejabberd_router:route(#message{from = jid:make(<<"s1">>, Host, <<"bench">>),
				   to = jid:make(U, Host), type = chat,
				   body = [#text{data = <<"benchmark message number 1">>}]}),
    {selected, [{Seq}]} =
	ejabberd_sql:sql_query(
	  Host, ?SQL("select @(seq)d from spool"
		     " where username=%(U)s and server_host=%(Host)s")),
    Seq.

%% Waits until the index has Len messages for the user; ms waited.
wait_count(Host, U, Len) ->
    %% unread_count answers not_exists for an unknown user without messages.
    _ = ejabberd_auth:try_register(U, Host, <<"pw">>),
    JID = <<U/binary, $@, Host/binary>>,
    T0 = erlang:monotonic_time(millisecond),
    wait_until(fun() -> mod_unread_commands:unread_count(JID) == Len end, 600000),
    erlang:monotonic_time(millisecond) - T0.

wait_until(Fun, Ms) ->
    Deadline = erlang:monotonic_time(millisecond) + Ms,
    wait_until_(Fun, Deadline).

wait_until_(Fun, Deadline) ->
    case Fun() of
	true -> ok;
	false ->
	    case erlang:monotonic_time(millisecond) > Deadline of
		true -> erlang:error(timeout);
		false -> timer:sleep(1), wait_until_(Fun, Deadline)
	    end
    end.

%% unread_count against stock count_offline_messages (its cache emptied
%% before each call, so each asks the database, and warm), for the users
%% given as {User, Len} (filled by the bench in SQL).
count(Host, Users) ->
    [begin
	 _ = ejabberd_auth:try_register(U, Host, <<"pw">>),
	 JID = <<U/binary, $@, Host/binary>>,
	 {ok, Index} = mod_unread_server:lookup(Host),
	 Len = mod_unread_commands:unread_count(JID),
	 ets_cache:delete(?STOCK_CACHE, {U, Host}),
	 Len = mod_offline:count_offline_messages(U, Host),
	 #{queue => Len,
	   unread_count_us => unread_bench:per_call(fun() -> mod_unread_commands:unread_count(JID) end, 500),
	   nif_count_us => unread_bench:per_call(fun() -> unread_nif:count(Index, U) end, 300),
	   stock_cold_us => unread_bench:per_call(fun() ->
					     ets_cache:delete(?STOCK_CACHE, {U, Host}),
					     mod_offline:count_offline_messages(U, Host)
				     end, 3000),
	   stock_warm_us => unread_bench:per_call(fun() -> mod_offline:count_offline_messages(U, Host) end, 500)}
     end || {U, Len} <- Users].

%% Messages routed to offline users through ejabberd's full path (router,
%% session manager, offline_message_hook, mod_offline_sql's insert), with
%% mod_unread and its triggers, and without either (module stopped and
%% triggers dropped: the stock database), alternating, Rounds times each.
store(Host, N, Rounds) ->
    Users = [<<"store_", (integer_to_binary(I))/binary>> || I <- lists:seq(1, 50)],
    [ejabberd_auth:try_register(U, Host, <<"pw">>) || U <- Users],
    From = jid:make(<<"storesender">>, Host, <<"bench">>),
    Pairs = [begin
		 With = run_store(Host, Users, From, N, true),
		 Without = run_store(Host, Users, From, N, false),
		 {With, Without}
	     end || _ <- lists:seq(1, Rounds)],
    ensure_module(Host, true),
    remove_users(Host, Users),
    {WithRates, WithoutRates} = lists:unzip(Pairs),
    #{messages_per_round => N, rounds => Rounds,
      with_module_per_s => unread_bench:median([R || {R, _} <- WithRates]),
      with_module_indexed_per_s => unread_bench:median([R || {_, R} <- WithRates]),
      without_module_per_s => unread_bench:median([R || {R, _} <- WithoutRates]),
      with_rounds => [R || {R, _} <- WithRates],
      without_rounds => [R || {R, _} <- WithoutRates]}.

run_store(Host, Users, From, N, WithModule) ->
    ensure_module(Host, WithModule),
    remove_users(Host, Users),
    %% The deletes reach the index through the log too: the round starts
    %% once it shows them, so it times only its own messages.
    WithModule andalso wait_total(Host, Users, 0),
    NUsers = length(Users),
    Msgs = [#message{from = From, to = jid:make(lists:nth(1 + I rem NUsers, Users), Host),
		     type = chat, body = [#text{data = <<"store benchmark">>}]}
	    || I <- lists:seq(1, N)],
    T0 = erlang:monotonic_time(microsecond),
    lists:foreach(fun ejabberd_router:route/1, Msgs),
    T1 = erlang:monotonic_time(microsecond),
    %% Indexed: once the log reader has brought every message to the index.
    WithModule andalso wait_total(Host, Users, N),
    T2 = erlang:monotonic_time(microsecond),
    Stored = lists:sum([begin
			    ets_cache:delete(?STOCK_CACHE, {U, Host}),
			    mod_offline:count_offline_messages(U, Host)
			end || U <- Users]),
    N = Stored,
    {N * 1.0e6 / (T1 - T0), N * 1.0e6 / (T2 - T0)}.

wait_total(Host, Users, Total) ->
    JIDs = [<<U/binary, $@, Host/binary>> || U <- Users],
    wait_until(fun() -> lists:sum([mod_unread_commands:unread_count(J) || J <- JIDs]) == Total end,
	       600000).

remove_users(Host, Users) ->
    [mod_offline:remove_user(U, Host) || U <- Users],
    ok.

ensure_module(Host, true) ->
    case gen_mod:is_loaded(Host, mod_unread) of
	true -> ok;
	false -> gen_mod:start_module(Host, mod_unread)
    end,
    %% Loaded is not ready: a node just started is still building its index.
    wait_ready(Host),
    %% mod_unread made its triggers again at start.
    {ok, [_ | _]} = triggers(Host),
    ok;
ensure_module(Host, false) ->
    case gen_mod:is_loaded(Host, mod_unread) of
	true -> gen_mod:stop_module(Host, mod_unread);
	false -> ok
    end,
    [{updated, _} = ejabberd_sql:sql_query(Host, [Q]) || Q <- drop_triggers(Host)],
    {ok, []} = triggers(Host),
    ok.

drop_triggers(Host) ->
    case ejabberd_option:sql_type(Host) of
	pgsql -> [<<"DROP TRIGGER IF EXISTS mod_unread_spool_changed ON spool">>,
		  <<"DROP TRIGGER IF EXISTS mod_unread_spool_truncated ON spool">>];
	mysql -> [<<"DROP TRIGGER IF EXISTS mod_unread_spool_deleted">>,
		  <<"DROP TRIGGER IF EXISTS mod_unread_spool_updated">>]
    end.

%% The names of the triggers on spool.
triggers(Host) ->
    Q = case ejabberd_option:sql_type(Host) of
	    pgsql -> <<"select tgname from pg_trigger where not tgisinternal"
		       " and tgrelid = 'spool'::regclass">>;
	    mysql -> <<"select trigger_name from information_schema.triggers"
		       " where event_object_schema = database()"
		       " and event_object_table = 'spool'">>
	end,
    case ejabberd_sql:sql_query(Host, [Q]) of
	{selected, _, Rows} -> {ok, [N || [N] <- Rows]};
	Err -> {error, Err}
    end.

wait_ready(Host) ->
    case mod_unread_server:lookup(Host) of
	{ok, _} -> ok;
	_ -> timer:sleep(100), wait_ready(Host)
    end.

percentile(L, P) ->
    S = lists:sort(L),
    lists:nth(max(1, min(length(S), round(P / 100 * length(S) + 0.5))), S).

%% Users with the most unread: unread_top beside the stock SQL way, a GROUP
%% BY over spool through ejabberd_sql, in the same run.
top(Host) ->
    Top = mod_unread_commands:unread_top(Host, 10),
    Stock = fun() ->
		    {selected, Rows} =
			ejabberd_sql:sql_query(
			  Host,
			  ?SQL("select @(username)s, @(count(*))d from spool"
			       " where server_host=%(Host)s group by username"
			       " order by count(*) desc limit 10")),
		    Rows
	    end,
    Scan = Stock(),
    %% Ties among the many users with the same count come in either order.
    Counts = [N || {_, N} <- Scan],
    Counts = [N || {_, N} <- Top],
    #{unread_top_us => unread_bench:per_call(fun() -> mod_unread_commands:unread_top(Host, 10) end, 1000),
      stock_sql_us => unread_bench:per_call(Stock, 5000),
      top_count => hd(Counts)}.

%% A full rebuild (mod_unread_server:resync/1) beside a bare keyset-paged
%% select of the same rows from the same node, through ejabberd_sql with the
%% query and page size of mod_unread_sql:fold/3, in one process, doing
%% nothing with the rows; and beside the rebuild's own reading alone (its
%% readers, each paging through a range of seqs, the pages counted and
%% dropped). Alternating, Rounds times each, each step started once the
%% indexes the last one left behind are freed.
rebuild(Host, Rounds) ->
    Rounds1 = [begin
		   settle(),
		   {SelectUs, Selected} = timer:tc(fun() -> bare_select(Host) end),
		   settle(),
		   {ReadUs, {ok, Selected}} =
		       timer:tc(fun() -> mod_unread_sql:read_pages(Host, ?CHUNK, fun length/1) end),
		   settle(),
		   {RebuildUs, {ok, _}} = timer:tc(fun() -> mod_unread_server:resync(Host) end),
		   %% The server's own measure of the read into the new index,
		   %% without resync's comparison of the old and new indexes.
		   #{rebuild_ms := BuildMs} = mod_unread_server:info(Host),
		   #{select => SelectUs / 1.0e6, read => ReadUs / 1.0e6,
		     rebuild => RebuildUs / 1.0e6, build => BuildMs / 1.0e3, rows => Selected}
	       end || _ <- lists:seq(1, Rounds)],
    Col = fun(K) -> [maps:get(K, R) || R <- Rounds1] end,
    Med = fun(K) -> unread_bench:median(Col(K)) end,
    Ratios = fun(K, Of) -> [maps:get(K, R) / maps:get(Of, R) || R <- Rounds1] end,
    [#{rows := Selected} | _] = Rounds1,
    #{selected => Selected, rounds => Rounds,
      bare_select_s => Med(select), ranged_select_s => Med(read),
      rebuild_s => Med(rebuild), build_s => Med(build),
      rebuild_vs_select => Med(rebuild) / Med(select),
      build_vs_select => Med(build) / Med(select),
      select_rounds_s => Col(select), ranged_rounds_s => Col(read),
      rebuild_rounds_s => Col(rebuild), build_rounds_s => Col(build),
      round_ratios => Ratios(rebuild, select), build_ratios => Ratios(build, select),
      median_round_ratio => unread_bench:median(Ratios(rebuild, select)),
      ranged_ratios => Ratios(read, select)}.

%% Waits (up to 30 s) until no index but the live one is left for the NIF's
%% reaper thread to free: a rebuild leaves the old index behind, and its
%% freeing (a third of a second per million messages, on its own thread)
%% would otherwise run into the next step. The old index is freed once no
%% process refers to it, so every process is collected first.
settle() ->
    settle(erlang:monotonic_time(millisecond) + 30000).

settle(Deadline) ->
    [erlang:garbage_collect(P) || P <- processes()],
    case unread_nif:live_indexes() =< length(ejabberd_option:hosts()) of
	true -> ok;
	false ->
	    case erlang:monotonic_time(millisecond) > Deadline of
		true -> ok;
		false -> timer:sleep(20), settle(Deadline)
	    end
    end.

%% The page query of mod_unread_sql:fold/3 and load/4, the same text on
%% each database (MariaDB's with the index the backend forces).
page(Host, After) ->
    Chunk = ?CHUNK,
    Q = fun(mysql, _) ->
		ejabberd_sql:sql_query_t(
		  ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s"
		       " from spool force index (i_mod_unread_spool_sh_seq)"
		       " where server_host=%(Host)s and seq > %(After)d"
		       " order by seq limit %(Chunk)d"));
	   (_, _) ->
		ejabberd_sql:sql_query_t(
		  ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s"
		       " from spool where server_host=%(Host)s and seq > %(After)d"
		       " order by seq limit %(Chunk)d"))
	end,
    {selected, Rows} = ejabberd_sql:sql_query(Host, Q),
    Rows.

bare_select(Host) -> bare_select(Host, 0, 0).

bare_select(Host, After, N) ->
    case page(Host, After) of
	[] -> N;
	Rows ->
	    {Last, _, _, _} = lists:last(Rows),
	    case length(Rows) < ?CHUNK of
		true -> N + length(Rows);
		false -> bare_select(Host, Last, N + length(Rows))
	    end
    end.

%% Where a rebuild's time goes: the same pages read in one process, each
%% step timed on its own: the fetch, and the rows scanned and indexed by
%% unread_nif:insert_rows/4 (what mod_unread_sql:load/4 does with a page).
breakdown(Host) ->
    Preview = gen_mod:get_module_opt(Host, mod_unread, preview_length),
    Index = unread_nif:new(),
    breakdown(Host, Index, Preview, 0, #{fetch_s => 0, insert_rows_s => 0, declined => 0,
					  rows => 0}).

breakdown(Host, Index, Preview, After, Acc) ->
    {F, Rows} = timer:tc(fun() -> page(Host, After) end),
    {I, {_, Declined}} = timer:tc(fun() -> unread_nif:insert_rows(Index, Host, Rows, Preview) end),
    Acc1 = Acc#{fetch_s := maps:get(fetch_s, Acc) + F / 1.0e6,
		insert_rows_s := maps:get(insert_rows_s, Acc) + I / 1.0e6,
		declined := maps:get(declined, Acc) + length(Declined),
		rows := maps:get(rows, Acc) + length(Rows)},
    case length(Rows) < ?CHUNK of
	true -> Acc1;
	false ->
	    {Last, _, _, _} = lists:last(Rows),
	    breakdown(Host, Index, Preview, Last, Acc1)
    end.

%% Cross-node lag: N changes made through this node (alternately a message
%% routed to an offline user and that message removed with
%% mod_offline_sql:remove_message/3), each timed until Other's unread_count
%% shows it (Other polled over Erlang distribution every millisecond).
%% Returns ms from the change's commit, and from its start.
lag(Host, Other, N, NUsers) ->
    Users = [<<"lag_", (integer_to_binary(I))/binary>> || I <- lists:seq(1, NUsers)],
    %% Two independent nodes (one database, no mnesia cluster): each keeps
    %% its own accounts, and unread_count answers not_exists for an unknown
    %% user without messages.
    [{_, _} = {ejabberd_auth:try_register(U, Host, <<"pw">>),
	       rpc:call(Other, ejabberd_auth, try_register, [U, Host, <<"pw">>])} || U <- Users],
    remove_users(Host, Users),
    From = jid:make(<<"lagsender">>, Host, <<"bench">>),
    [wait_remote(Other, <<U/binary, $@, Host/binary>>, 0, 60000) || U <- Users],
    Samples =
	[begin
	     U = lists:nth(1 + (I div 2) rem NUsers, Users),
	     %% A change right after the other node's poll waits a whole poll
	     %% period: start each at a random point of it.
	     timer:sleep(rand:uniform(50)),
	     JID = <<U/binary, $@, Host/binary>>,
	     case I rem 2 of
		 0 ->
		     T0 = erlang:monotonic_time(microsecond),
		     ejabberd_router:route(#message{from = From, to = jid:make(U, Host), type = chat,
						    body = [#text{data = <<"lag">>}]}),
		     T1 = erlang:monotonic_time(microsecond),
		     Wait = wait_remote(Other, JID, 1, 10000),
		     {insert, T0, T1, Wait};
		 1 ->
		     {selected, [{Seq}]} =
			 ejabberd_sql:sql_query(
			   Host, ?SQL("select @(seq)d from spool where username=%(U)s"
				      " and server_host=%(Host)s")),
		     T0 = erlang:monotonic_time(microsecond),
		     ok = mod_offline_sql:remove_message(U, Host, Seq),
		     T1 = erlang:monotonic_time(microsecond),
		     Wait = wait_remote(Other, JID, 0, 10000),
		     {delete, T0, T1, Wait}
	     end
	 end || I <- lists:seq(0, N - 1)],
    remove_users(Host, Users),
    Missed = length([x || {_, _, _, timeout} <- Samples]),
    Seen = [S || {_, _, _, W} = S <- Samples, W /= timeout],
    lag_stats(N, Missed, Seen, Samples).

lag_stats(N, Missed, [], Samples) ->
    #{changes => N, missed => Missed, first_missed => hd([K || {K, _, _, timeout} <- Samples])};
lag_stats(N, Missed, Samples, _) ->
    FromCommit = [(W - T1) / 1000 || {_, _, T1, W} <- Samples],
    FromStart = [(W - T0) / 1000 || {_, T0, _, W} <- Samples],
    Ins = [(W - T1) / 1000 || {insert, _, T1, W} <- Samples],
    Del = [(W - T1) / 1000 || {delete, _, T1, W} <- Samples],
    #{changes => N, missed => Missed,
      p50_ms => percentile(FromCommit, 50), p99_ms => percentile(FromCommit, 99),
      max_ms => lists:max(FromCommit),
      from_start_p50_ms => percentile(FromStart, 50), from_start_p99_ms => percentile(FromStart, 99),
      insert_p50_ms => percentile(Ins, 50), insert_p99_ms => percentile(Ins, 99),
      delete_p50_ms => percentile(Del, 50), delete_p99_ms => percentile(Del, 99)}.

%% The time (this node's monotonic µs) at which Other first showed Len.
wait_remote(Other, JID, Len, Ms) ->
    Deadline = erlang:monotonic_time(millisecond) + Ms,
    wait_remote_(Other, JID, Len, Deadline).

wait_remote_(Other, JID, Len, Deadline) ->
    case rpc:call(Other, mod_unread_commands, unread_count, [JID]) of
	Len -> erlang:monotonic_time(microsecond);
	_ ->
	    case erlang:monotonic_time(millisecond) > Deadline of
		true -> timeout;
		false -> timer:sleep(1), wait_remote_(Other, JID, Len, Deadline)
	    end
    end.
