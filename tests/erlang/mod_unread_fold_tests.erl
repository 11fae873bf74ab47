%%% EUnit tests of mod_unread_mnesia:fold/3, the rebuild's read of the store,
%%% on a real mnesia table stored as mod_offline stores it (disc_only_copies,
%%% a bag keyed by {User, Host}): every record of the host reaches Fun,
%%% Fun runs in two processes taking turns, and a failure anywhere ends the
%%% fold with an error and no process left behind. Runs in its own VM: it
%%% starts mnesia with a schema in a temporary directory.
-module(mod_unread_fold_tests).

-include_lib("eunit/include/eunit.hrl").

-define(HOST, <<"a.example">>).

rec(User, Host, N) ->
    {offline_msg, {User, Host}, {0, N div 1000000, N rem 1000000}, never,
     {jid, <<"b">>, Host, <<>>, <<"b">>, Host, <<>>}, {jid, User, Host, <<>>, User, Host, <<>>},
     {xmlel, <<"message">>, [], [{xmlel, <<"body">>, [], [{xmlcdata, integer_to_binary(N)}]}]}}.

setup() ->
    Dir = string:trim(os:cmd("mktemp -d")),
    application:set_env(mnesia, dir, Dir),
    ok = mnesia:create_schema([node()]),
    ok = mnesia:start(),
    {atomic, ok} = mnesia:create_table(offline_msg,
				       [{disc_only_copies, [node()]}, {type, bag},
					{attributes, [us, timestamp, expire, from, to, packet]}]),
    [ok = mnesia:dirty_write(rec(<<"u", (integer_to_binary(N rem 700))/binary>>, ?HOST, N))
     || N <- lists:seq(1, 5500)],
    [ok = mnesia:dirty_write(rec(<<"x">>, <<"b.example">>, N)) || N <- lists:seq(1, 300)],
    Dir.

cleanup(Dir) ->
    mnesia:stop(),
    os:cmd("rm -rf " ++ Dir).

fold_test_() ->
    {setup, fun setup/0, fun cleanup/1,
     [fun every_record_once_in_two_processes/0,
      {timeout, 60, fun records_written_meanwhile_do_not_hide_others/0},
      fun other_host_is_empty/0,
      fun a_crash_in_fun_is_an_error/0,
      fun readers_stop_with_their_owner/0]}.

every_record_once_in_two_processes() ->
    Self = self(),
    {ok, 5500} = mod_unread_mnesia:fold(?HOST, 1000, fun(Recs) -> Self ! {chunk, self(), Recs} end),
    Chunks = collect([]),
    Records = lists:append([Recs || {_, Recs} <- Chunks]),
    ?assertEqual(5500, length(Records)),
    ?assertEqual(lists:sort(Records), lists:usort(Records)),
    ?assertEqual([?HOST], lists:usort([H || {offline_msg, {_, H}, _, _, _, _, _} <- Records])),
    %% dets sizes chunks roughly (it keeps a key's records together).
    ?assert(length(Chunks) >= 4),
    %% Chunks were handled where they were read: in two processes, taking turns.
    ?assertEqual(2, length(lists:usort([Pid || {Pid, _} <- Chunks]))),
    ?assertEqual([], [P || {P, _} <- Chunks, is_process_alive(P)]).

%% Writes during the fold make dets grow and move records between slots: the
%% fold must still read every record that was there all along.
records_written_meanwhile_do_not_hide_others() ->
    Self = self(),
    Before = lists:sort(mnesia:dirty_select(offline_msg, [{{offline_msg, {'_', ?HOST}, '_', '_', '_', '_', '_'}, [], ['$_']}])),
    Writer = fun(_) ->
		     case get(wrote) of
			 undefined ->
			     put(wrote, true),
			     [ok = mnesia:dirty_write(rec(<<"new", (integer_to_binary(N))/binary>>,
							  ?HOST, N))
			      || N <- lists:seq(1, 600)];
			 _ -> ok
		     end
	     end,
    {ok, _} = mod_unread_mnesia:fold(?HOST, 100, fun(Recs) -> Writer(Recs), Self ! {chunk, self(), Recs} end),
    Read = lists:append([Recs || {_, Recs} <- collect([])]),
    Old = [R || R = {offline_msg, {U, _}, _, _, _, _, _} <- Read, not lists:prefix("new", binary_to_list(U))],
    %% At least once: dets may also hand out the old copy of a record that a
    %% write moved, which a rebuild inserts twice to no effect.
    ?assertEqual(Before, lists:usort(Old)),
    ?assertEqual(false, dets:info(offline_msg, safe_fixed)),
    [mnesia:dirty_delete(offline_msg, {<<"new", (integer_to_binary(N))/binary>>, ?HOST})
     || N <- lists:seq(1, 600)].

collect(Acc) ->
    receive {chunk, Pid, Recs} -> collect([{Pid, Recs} | Acc])
    after 0 -> lists:reverse(Acc)
    end.

other_host_is_empty() ->
    ?assertEqual({ok, 0}, mod_unread_mnesia:fold(<<"c.example">>, 1000, fun(_) -> error(called) end)),
    ?assertEqual({ok, 300}, mod_unread_mnesia:fold(<<"b.example">>, 7, fun(_) -> ok end)).

a_crash_in_fun_is_an_error() ->
    Self = self(),
    Fun = fun(_) -> Self ! {reader, self()}, error(boom) end,
    ?assertMatch({error, {boom, _}}, mod_unread_mnesia:fold(?HOST, 100, Fun)),
    timer:sleep(100),
    Readers = readers([]),
    ?assert(wait_until(fun() -> not lists:any(fun is_process_alive/1, Readers) end, 10)).

readers(Acc) ->
    receive {reader, P} -> readers([P | Acc]) after 0 -> lists:usort(Acc) end.

%% The whole fold would take seconds (550 chunks, 20 ms each): the readers
%% must stop within a chunk or two of their owner's death instead.
readers_stop_with_their_owner() ->
    Self = self(),
    Owner = spawn(fun() ->
			  mod_unread_mnesia:fold(?HOST, 10, fun(_) -> Self ! {reader, self()},
								    timer:sleep(20) end)
		  end),
    receive {reader, _} -> ok end,
    exit(Owner, kill),
    timer:sleep(200),
    Readers = readers([]),
    ?assert(Readers /= []),
    ?assert(wait_until(fun() -> not lists:any(fun is_process_alive/1, Readers) end, 10)),
    ?assertEqual([], readers([])).

wait_until(_, 0) -> false;
wait_until(F, N) ->
    case F() of
	true -> true;
	false -> timer:sleep(20), wait_until(F, N - 1)
    end.
