%%%----------------------------------------------------------------------
%%% File    : purge_bench.erl
%%% Purpose : Purge by sender and retention preview on a real ejabberd node
%%%           (see bench/purge_bench.py), each beside the stock way of
%%%           answering the same question (a full fold of offline_msg), in
%%%           one run.
%%%----------------------------------------------------------------------
-module(purge_bench).

-export([fill/5, dry_run/2, retention/2, purge/2, traffic/4]).

-include("xmpp.hrl").
-include("mod_offline.hrl").

%% Users x PerUser records straight into mod_offline's table: every
%% SpamEvery-th user has Spam of its PerUser messages from spam@Host, the
%% rest from sender@Host. Ids spread over Users ms, a day ago.
fill(Host, Users, PerUser, SpamEvery, Spam) ->
    T0 = erlang:monotonic_time(microsecond),
    Base = erlang:system_time(microsecond) - 86400000000,
    Legit = jid:make(<<"sender">>, Host),
    Spammer = jid:make(<<"spam">>, Host),
    lists:foreach(
      fun(U) ->
	      To = jid:make(<<"u", (integer_to_binary(U))/binary>>, Host),
	      lists:foreach(
		fun(M) ->
			From = case U rem SpamEvery == 0 andalso M =< Spam of
				   true -> Spammer;
				   false -> Legit
			       end,
			mnesia:dirty_write(unread_bench:record(To, From, Base + U * 1000 + M, M))
		end, lists:seq(1, PerUser))
      end, lists:seq(1, Users)),
    #{users => Users, per_user => PerUser, base => Base,
      seconds => (erlang:monotonic_time(microsecond) - T0) / 1.0e6}.

%% The dry run (command and bare NIF call) for the spammer's JID and for its
%% whole domain, beside a fold of the table counting the same.
dry_run(Host, Sender) ->
    [_, Domain] = binary:split(Sender, <<"@">>),
    {ok, Index} = mod_unread_server:lookup(Host),
    {1, Messages, Users, _} = mod_unread_commands:unread_purge_sender(Host, Sender, 1, 10),
    {StockUs, {Messages, Users}} = timer:tc(fun() -> stock_count(Host, {jid, Sender}) end),
    {1, DMessages, DUsers, _} =
	mod_unread_commands:unread_purge_sender(Host, <<$@, Domain/binary>>, 1, 10),
    {DStockUs, {DMessages, DUsers}} = timer:tc(fun() -> stock_count(Host, {domain, Domain}) end),
    #{messages => Messages, users => Users,
      command_us => unread_bench:per_call(
		      fun() -> mod_unread_commands:unread_purge_sender(Host, Sender, 1, 10) end, 2000),
      nif_us => unread_bench:per_call(
		  fun() -> unread_nif:sender_impact(Index, Sender, jid, 10) end, 2000),
      stock_fold_us => StockUs,
      domain_messages => DMessages, domain_users => DUsers,
      domain_command_us => unread_bench:per_call(
			     fun() ->
				     mod_unread_commands:unread_purge_sender(
				       Host, <<$@, Domain/binary>>, 1, 10)
			     end, 3000),
      domain_stock_fold_us => DStockUs}.

%% What the stock way has: every record of the table read, the matching
%% ones counted by user.
stock_count(Host, Match) ->
    Users = mnesia:async_dirty(
	      fun() ->
		      mnesia:foldl(
			fun(#offline_msg{us = {U, H}, from = #jid{luser = FU, lserver = FS}}, Acc)
			      when H == Host ->
				case Match of
				    {jid, S} when S == <<FU/binary, $@, FS/binary>> ->
					maps:update_with(U, fun(C) -> C + 1 end, 1, Acc);
				    {domain, FS} ->
					maps:update_with(U, fun(C) -> C + 1 end, 1, Acc);
				    _ -> Acc
				end;
			   (_, Acc) -> Acc
			end, #{}, offline_msg)
	      end),
    {lists:sum(maps:values(Users)), map_size(Users)}.

%% The retention preview for a cutoff halfway through the ids, beside the
%% fold delete_old_messages runs (counting instead of deleting).
retention(Host, Cutoff) ->
    {ok, Index} = mod_unread_server:lookup(Host),
    {Messages, Users, _} = unread_nif:older_than(Index, Cutoff, 10),
    TS = misc:usec_to_now(Cutoff),
    {StockUs, Messages} =
	timer:tc(fun() ->
			 mnesia:async_dirty(
			   fun() ->
				   mnesia:foldl(fun(#offline_msg{timestamp = T}, A) when T < TS -> A + 1;
						   (_, A) -> A
						end, 0, offline_msg)
			   end)
		 end),
    #{messages => Messages, users => Users,
      nif_us => unread_bench:per_call(fun() -> unread_nif:older_than(Index, Cutoff, 10) end, 3000),
      stock_fold_us => StockUs}.

%% The real purge of the spammer: messages/s, and what was left.
purge(Host, Sender) ->
    {Us, {0, Messages, Users, _}} =
	timer:tc(fun() -> mod_unread_commands:unread_purge_sender(Host, Sender, 0, 10) end),
    {ok, Index} = mod_unread_server:lookup(Host),
    {Left, _, _, _} = unread_nif:sender_impact(Index, Sender, jid, 0),
    {0, Again, _, _} = mod_unread_commands:unread_purge_sender(Host, Sender, 0, 10),
    #{messages => Messages, users => Users, seconds => Us / 1.0e6,
      messages_per_s => Messages * 1.0e6 / Us, users_per_s => Users * 1.0e6 / Us,
      left_in_index => Left, second_run_removed => Again}.

%% Store throughput of other traffic while a purge runs, beside the same
%% traffic with no purge, alternating Rounds times. Each round routes N
%% messages from a legitimate sender to 50 offline users through
%% ejabberd_router (as a client's messages arrive), once alone and once
%% while a purge of spam2@Host runs; before the purge, one spam message
%% is planted in each of SpamUsers queues of the fill's users, so the
%% purge outlasts the traffic (checked: still_running per round).
traffic(Host, N, Rounds, SpamUsers) ->
    Users = [<<"traffic_", (integer_to_binary(I))/binary>> || I <- lists:seq(1, 50)],
    [ejabberd_auth:try_register(U, Host, <<"pw">>) || U <- Users],
    From = jid:make(<<"legit">>, Host, <<"bench">>),
    Spammer = jid:make(<<"spam2">>, Host),
    SpammerName = jid:encode(Spammer),
    Rows = [begin
		Without = route_rate(Host, Users, From, N),
		plant(Host, Spammer, SpamUsers),
		wait_planted(Host, SpammerName, SpamUsers),
		{Pid, Ref} = spawn_monitor(
			       fun() ->
				       exit({done, timer:tc(
						     fun() ->
							     mod_unread_commands:unread_purge_sender(
							       Host, SpammerName, 0, 0)
						     end)})
			       end),
		With = route_rate(Host, Users, From, N),
		Running = is_process_alive(Pid),
		receive
		    {'DOWN', Ref, process, Pid, {done, {Us, {0, Removed, _, _}}}} ->
			{With, Without, Running, Removed * 1.0e6 / Us}
		end
	    end || _ <- lists:seq(1, Rounds)],
    [mod_offline:remove_user(U, Host) || U <- Users],
    Ratios = [W / O || {W, O, _, _} <- Rows],
    #{messages_per_round => N, rounds => Rounds, spam_users => SpamUsers,
      with_purge_per_s => unread_bench:median([W || {W, _, _, _} <- Rows]),
      without_purge_per_s => unread_bench:median([O || {_, O, _, _} <- Rows]),
      ratio => unread_bench:median(Ratios), round_ratios => Ratios,
      with_rounds => [W || {W, _, _, _} <- Rows],
      without_rounds => [O || {_, O, _, _} <- Rows],
      purge_outlasted_traffic => lists:all(fun({_, _, R, _}) -> R end, Rows),
      purge_messages_per_s => unread_bench:median([P || {_, _, _, P} <- Rows])}.

%% N messages routed one after another; stored, as the users are offline.
%% The queues are emptied first, so every round stores into the same state.
route_rate(Host, Users, From, N) ->
    [mod_offline:remove_user(U, Host) || U <- Users],
    NUsers = length(Users),
    Msgs = [#message{from = From, to = jid:make(lists:nth(1 + I rem NUsers, Users), Host),
		     type = chat, body = [#text{data = <<"traffic during a purge">>}]}
	    || I <- lists:seq(1, N)],
    T0 = erlang:monotonic_time(microsecond),
    lists:foreach(fun ejabberd_router:route/1, Msgs),
    N * 1.0e6 / (erlang:monotonic_time(microsecond) - T0).

plant(Host, Spammer, SpamUsers) ->
    Now = erlang:system_time(microsecond),
    lists:foreach(
      fun(U) ->
	      To = jid:make(<<"u", (integer_to_binary(U))/binary>>, Host),
	      mnesia:dirty_write(unread_bench:record(To, Spammer, Now + U, 0))
      end, lists:seq(1, SpamUsers)).

wait_planted(Host, SpammerName, SpamUsers) ->
    {ok, Index} = mod_unread_server:lookup(Host),
    case unread_nif:sender_impact(Index, SpammerName, jid, 0) of
	{SpamUsers, _, _, _} -> ok;
	_ -> timer:sleep(100), wait_planted(Host, SpammerName, SpamUsers)
    end.
