%%%----------------------------------------------------------------------
%%% File    : unread_bench.erl
%%% Purpose : Server-side benchmarks of mod_unread, run inside a real
%%%           ejabberd node (see bench/run.py), each beside the stock
%%%           ejabberd way of answering the same question, in one run.
%%%----------------------------------------------------------------------
-module(unread_bench).

-export([fill/4, count/1, store/2, top/1, memory/1, rebuild/2]).
%% Shared with unread_sql_bench and purge_bench.
-export([per_call/2, record/4, median/1]).

-include("xmpp.hrl").
-include("mod_offline.hrl").

-define(STOCK_CACHE, offline_msg_counter_cache).

%% Writes Users x PerUser records straight into mod_offline's table, shaped
%% as mod_offline stores them (design.md: the fast way to set up a large
%% store). mod_unread, if running, indexes them as they are written.
fill(Host, Prefix, Users, PerUser) ->
    T0 = erlang:monotonic_time(microsecond),
    Base = erlang:system_time(microsecond) - 86400000000,
    From = jid:make(<<"sender">>, Host),
    lists:foreach(
      fun(U) ->
	      User = <<Prefix/binary, (integer_to_binary(U))/binary>>,
	      To = jid:make(User, Host),
	      lists:foreach(
		fun(M) ->
			Usec = Base + U * 1000 + M,
			mnesia:dirty_write(record(To, From, Usec, M))
		end, lists:seq(1, PerUser))
      end, lists:seq(1, Users)),
    #{users => Users, per_user => PerUser,
      seconds => (erlang:monotonic_time(microsecond) - T0) / 1.0e6}.

record(#jid{luser = U, lserver = S} = To, From, Usec, N) ->
    Body = <<"benchmark message number ", (integer_to_binary(N))/binary>>,
    Pkt = #xmlel{name = <<"message">>,
		 attrs = [{<<"xmlns">>, <<"jabber:client">>}, {<<"type">>, <<"chat">>},
			  {<<"to">>, jid:encode(To)}, {<<"from">>, jid:encode(From)}],
		 children = [#xmlel{name = <<"body">>, children = [{xmlcdata, Body}]}]},
    #offline_msg{us = {U, S}, timestamp = misc:usec_to_now(Usec), expire = never,
		 from = From, to = To, packet = Pkt}.

%% µs per call, over enough calls to take about Budget ms.
per_call(Fun, Budget) ->
    Fun(),
    {T1, _} = timer:tc(Fun),
    N = max(1, min(200000, (Budget * 1000) div max(1, T1))),
    {T, _} = timer:tc(fun() -> loop(Fun, N) end),
    T / N.

loop(_, 0) -> ok;
loop(Fun, N) -> Fun(), loop(Fun, N - 1).

%% unread_count against stock count_offline_messages, cold and warm cache,
%% for users with 1, 100 and 10,000 messages (made here: count_<N>).
count(Host) ->
    [begin
	 User = <<"count_", (integer_to_binary(Len))/binary>>,
	 fill(Host, User, 1, Len),
	 U = <<User/binary, "1">>,
	 _ = ejabberd_auth:try_register(U, Host, <<"pw">>),
	 JID = <<U/binary, $@, Host/binary>>,
	 {ok, Index} = mod_unread_server:lookup(Host),
	 Len = mod_unread_commands:unread_count(JID),
	 Len = mod_offline:count_offline_messages(U, Host),
	 #{queue => Len,
	   unread_count_us => per_call(fun() -> mod_unread_commands:unread_count(JID) end, 500),
	   nif_count_us => per_call(fun() -> unread_nif:count(Index, U) end, 300),
	   stock_cold_us => per_call(fun() ->
					     ets_cache:delete(?STOCK_CACHE, {U, Host}),
					     mod_offline:count_offline_messages(U, Host)
				     end, 3000),
	   stock_warm_us => per_call(fun() -> mod_offline:count_offline_messages(U, Host) end, 500)}
     end || Len <- [1, 100, 10000]].

%% Messages routed to offline users through ejabberd's full path (router,
%% session manager, offline_message_hook, mod_offline's store), with and
%% without mod_unread, alternating, Rounds times each.
store(Host, N) ->
    Users = [<<"store_", (integer_to_binary(I))/binary>> || I <- lists:seq(1, 50)],
    [ejabberd_auth:try_register(U, Host, <<"pw">>) || U <- Users],
    From = jid:make(<<"storesender">>, Host, <<"bench">>),
    Rounds = [begin
		  With = run_store(Host, Users, From, N, true),
		  Without = run_store(Host, Users, From, N, false),
		  {With, Without}
	      end || _ <- lists:seq(1, 3)],
    ensure_module(Host, true),
    {WithRates, WithoutRates} = lists:unzip(Rounds),
    #{messages_per_round => N,
      with_module_per_s => median([R || {R, _} <- WithRates]),
      with_module_indexed_per_s => median([R || {_, R} <- WithRates]),
      without_module_per_s => median([R || {R, _} <- WithoutRates])}.

run_store(Host, Users, From, N, WithModule) ->
    ensure_module(Host, WithModule),
    [mod_offline:remove_user(U, Host) || U <- Users],
    NUsers = length(Users),
    Msgs = [#message{from = From, to = jid:make(lists:nth(1 + I rem NUsers, Users), Host),
		     type = chat, body = [#text{data = <<"store benchmark">>}]}
	    || I <- lists:seq(1, N)],
    T0 = erlang:monotonic_time(microsecond),
    lists:foreach(fun ejabberd_router:route/1, Msgs),
    T1 = erlang:monotonic_time(microsecond),
    %% Stored includes indexed only once the module has applied every event.
    case WithModule of
	true -> {ok, _} = mod_unread_server:lookup(Host);
	false -> ok
    end,
    T2 = erlang:monotonic_time(microsecond),
    Stored = lists:sum([mod_offline:count_offline_messages(U, Host) || U <- Users]),
    N = Stored,
    {N * 1.0e6 / (T1 - T0), N * 1.0e6 / (T2 - T0)}.

ensure_module(Host, true) ->
    case gen_mod:is_loaded(Host, mod_unread) of
	true -> ok;
	false -> gen_mod:start_module(Host, mod_unread), wait_ready(Host)
    end;
ensure_module(Host, false) ->
    case gen_mod:is_loaded(Host, mod_unread) of
	true -> gen_mod:stop_module(Host, mod_unread);
	false -> ok
    end.

wait_ready(Host) ->
    case mod_unread_server:lookup(Host) of
	{ok, _} -> ok;
	_ -> timer:sleep(100), wait_ready(Host)
    end.

median(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).

%% Users with the most unread: unread_top beside a stock-style full scan.
top(Host) ->
    Top = mod_unread_commands:unread_top(Host, 10),
    {ScanUs, Scan} = timer:tc(fun() -> stock_top(Host, 10) end),
    Expected = [{<<U/binary, $@, Host/binary>>, N} || {U, N} <- Scan],
    Expected = Top,
    #{unread_top_us => per_call(fun() -> mod_unread_commands:unread_top(Host, 10) end, 1000),
      stock_scan_us => ScanUs,
      top_user => hd(Top)}.

stock_top(Host, N) ->
    Counts = mnesia:async_dirty(
	       fun() ->
		       mnesia:foldl(fun(#offline_msg{us = {U, H}}, Acc) when H == Host ->
					    maps:update_with(U, fun(C) -> C + 1 end, 1, Acc);
				       (_, Acc) -> Acc
				    end, #{}, offline_msg)
	       end),
    lists:sublist(lists:sort(fun({A, CA}, {B, CB}) -> CA > CB orelse (CA == CB andalso A < B) end,
			     maps:to_list(Counts)), N).

%% Index bytes per message, and what of it is preview text.
memory(Host) ->
    [{_, Host, _, Total, Users, Bytes, _, _}] =
	[S || {_, H, _, _, _, _, _, _} = S <- mod_unread_commands:local_stats(), H == Host],
    #{messages => Total, users => Users, index_bytes => Bytes,
      bytes_per_message => Bytes / max(1, Total)}.

%% A full rebuild (unread_resync) beside bare traversals of the same table,
%% in one run: mnesia:foldl/3, and the chunked mnesia:select/4 a rebuild reads
%% with (same match spec and chunk size as mod_unread_mnesia:fold/3 and
%% mod_unread_server's ?CHUNK), in one process, doing nothing with the
%% records. The machine's speed drifts, so select and rebuild alternate,
%% Rounds times each; medians and each round's ratio are reported.
rebuild(Host, Rounds) ->
    {FoldUs, Records} =
	timer:tc(fun() ->
			 mnesia:async_dirty(fun() -> mnesia:foldl(fun(_, A) -> A + 1 end, 0, offline_msg) end)
		 end),
    Pairs = [begin
		 {SelectUs, Selected} = timer:tc(fun() -> bare_select(Host, 1000) end),
		 {RebuildUs, {ok, []}} = timer:tc(fun() -> mod_unread_server:resync(Host) end),
		 {SelectUs / 1.0e6, RebuildUs / 1.0e6, Selected}
	     end || _ <- lists:seq(1, Rounds)],
    Select = median([S || {S, _, _} <- Pairs]),
    Rebuild = median([R || {_, R, _} <- Pairs]),
    [{_, _, Selected} | _] = Pairs,
    #{records => Records, selected => Selected, rounds => Rounds,
      bare_foldl_s => FoldUs / 1.0e6, bare_select_s => Select, rebuild_s => Rebuild,
      rebuild_vs_foldl => Rebuild / (FoldUs / 1.0e6), rebuild_vs_select => Rebuild / Select,
      select_rounds_s => [S || {S, _, _} <- Pairs],
      rebuild_rounds_s => [R || {_, R, _} <- Pairs],
      round_ratios => [R / S || {S, R, _} <- Pairs]}.

bare_select(Host, Chunk) ->
    Spec = [{#offline_msg{us = {'_', Host}, _ = '_'}, [], ['$_']}],
    mnesia:activity(
      async_dirty,
      fun() -> count_chunks(mnesia:select(offline_msg, Spec, Chunk, read), 0) end).

count_chunks('$end_of_table', N) -> N;
count_chunks({Records, Cont}, N) -> count_chunks(mnesia:select(Cont), N + length(Records)).
