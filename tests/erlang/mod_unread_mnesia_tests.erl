%% mod_unread_mnesia, the backend for mod_offline's mnesia table: what each
%% table event means for one host's index, checked on events written by
%% hand and on the events a real (RAM) mnesia sends for each kind of change.
-module(mod_unread_mnesia_tests).

-include_lib("eunit/include/eunit.hrl").
-include("xmpp.hrl").
-include("mod_offline.hrl").

-define(HOST, <<"a.example">>).
-define(OTHER, <<"b.example">>).

msg(User, Host, Secs) ->
    #offline_msg{us = {User, Host}, timestamp = {0, Secs, 0}, expire = never,
		 from = jid(<<"bob">>, Host), to = jid(User, Host),
		 packet = #xmlel{name = <<"message">>}}.

%% Without jid:make/2: no stringprep NIF needed.
jid(U, S) -> #jid{user = U, server = S, luser = U, lserver = S}.

ev(Event) -> {mnesia_table_event, Event}.

classify(Event) -> mod_unread_mnesia:classify(ev(Event), ?HOST).

tid() -> {dirty, self()}.

write_test() ->
    R = msg(<<"alice">>, ?HOST, 1),
    ?assertEqual({insert, R}, classify({write, R, tid()})).

delete_object_test() ->
    R = msg(<<"alice">>, ?HOST, 1),
    ?assertEqual({delete_object, R}, classify({delete_object, R, tid()})).

delete_key_test() ->
    ?assertEqual({delete_user, <<"alice">>},
		 classify({delete, {offline_msg, {<<"alice">>, ?HOST}}, tid()})).

clear_table_test() ->
    ?assertEqual(clear, classify({delete, {schema, offline_msg}, {tid, 4, self()}})).

other_host_test_() ->
    R = msg(<<"alice">>, ?OTHER, 1),
    [?_assertEqual(ignore, classify({write, R, tid()})),
     ?_assertEqual(ignore, classify({delete_object, R, tid()})),
     ?_assertEqual(ignore, classify({delete, {offline_msg, {<<"alice">>, ?OTHER}}, tid()}))].

unrelated_events_test_() ->
    [%% Other tables' changes, and the schema record written after a clear.
     ?_assertEqual(ignore, classify({write, {roster, x, y}, tid()})),
     ?_assertEqual(ignore, classify({delete, {passwd, {<<"alice">>, ?HOST}}, tid()})),
     ?_assertEqual(ignore, classify({delete, {schema, roster}, tid()})),
     ?_assertEqual(ignore, classify({write, {schema, offline_msg, []}, tid()})),
     ?_assertEqual(ignore, classify({info, whatever})),
     %% Not mnesia's at all: the server logs those.
     ?_assertEqual(unknown, mod_unread_mnesia:classify({tcp, port, <<>>}, ?HOST)),
     ?_assertEqual(unknown, mod_unread_mnesia:classify(timeout, ?HOST))].

implements_every_callback_test() ->
    Callbacks = mod_unread:behaviour_info(callbacks) --
	mod_unread:behaviour_info(optional_callbacks),
    ?assertNotEqual([], Callbacks),
    Exports = mod_unread_mnesia:module_info(exports),
    ?assertEqual([], Callbacks -- Exports).

%% The shapes above are the ones mnesia really sends.
real_mnesia_test_() ->
    {setup,
     fun() ->
	     ok = mnesia:start(),
	     {atomic, ok} = mnesia:create_table(
			      offline_msg, [{type, bag},
					    {attributes, record_info(fields, offline_msg)}]),
	     ok
     end,
     fun(_) -> mnesia:stop() end,
     [fun real_events/0, fun fold_and_read_user/0]}.

real_events() ->
    ok = mod_unread_mnesia:subscribe(?HOST),
    A1 = msg(<<"alice">>, ?HOST, 1),
    A2 = msg(<<"alice">>, ?HOST, 2),
    B1 = msg(<<"alice">>, ?OTHER, 1),
    ok = mnesia:dirty_write(A1),
    ok = mnesia:dirty_write(A2),
    ok = mnesia:dirty_write(B1),
    ok = mnesia:dirty_delete_object(A1),
    ok = mnesia:dirty_delete(offline_msg, {<<"alice">>, ?HOST}),
    ok = mnesia:dirty_delete(offline_msg, {<<"alice">>, ?OTHER}),
    {atomic, ok} = mnesia:transaction(fun() -> mnesia:write(A1) end),
    {atomic, ok} = mnesia:clear_table(offline_msg),
    Ops = [Op || M <- drain(), Op <- [mod_unread_mnesia:classify(M, ?HOST)], Op /= ignore],
    ok = mod_unread_mnesia:unsubscribe(?HOST),
    ?assertEqual([{insert, A1}, {insert, A2}, {delete_object, A1},
		  {delete_user, <<"alice">>}, {insert, A1}, clear], Ops),
    ok = mnesia:dirty_write(A2),
    ?assertEqual([], drain()).

fold_and_read_user() ->
    {atomic, ok} = mnesia:clear_table(offline_msg),
    Mine = [msg(U, ?HOST, S) || U <- [<<"u1">>, <<"u2">>, <<"u3">>], S <- [1, 2]],
    [ok = mnesia:dirty_write(R) || R <- [msg(<<"u1">>, ?OTHER, 1) | Mine]],
    Self = self(),
    ?assertEqual({ok, 6}, mod_unread_mnesia:fold(?HOST, 4, fun(Rs) -> Self ! {chunk, Rs} end)),
    Chunks = drain(),
    ?assert(lists:all(fun({chunk, Rs}) -> length(Rs) =< 4 end, Chunks)),
    ?assertEqual(lists:sort(Mine), lists:sort(lists:append([Rs || {chunk, Rs} <- Chunks]))),
    ?assertEqual(lists:sort([msg(<<"u2">>, ?HOST, S) || S <- [1, 2]]),
		 lists:sort(mod_unread_mnesia:read_user(<<"u2">>, ?HOST))),
    ?assertEqual([], mod_unread_mnesia:read_user(<<"nobody">>, ?HOST)).

drain() ->
    receive M -> [M | drain()]
    after 200 -> []
    end.
