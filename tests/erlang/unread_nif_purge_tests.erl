%%% EUnit tests of the NIF calls behind purge by sender and the retention
%%% preview: malformed arguments are badarg, and the answers follow inserts
%%% and deletes of the records.
-module(unread_nif_purge_tests).

-include_lib("eunit/include/eunit.hrl").

rec(User, From, FromHost, Usec) ->
    Pkt = {xmlel, <<"message">>, [{<<"type">>, <<"chat">>}],
	   [{xmlel, <<"body">>, [], [{xmlcdata, <<"x">>}]}]},
    {offline_msg, {User, <<"h">>}, {Usec div 1000000000000, (Usec div 1000000) rem 1000000,
				    Usec rem 1000000},
     never, {jid, From, FromHost, <<>>, From, FromHost, <<>>},
     {jid, User, <<"h">>, <<>>, User, <<"h">>, <<>>}, Pkt}.

sender_view_test() ->
    I = unread_nif:new(),
    R1 = rec(<<"a">>, <<"spam">>, <<"bad">>, 10),
    [true = unread_nif:insert(I, R, 64)
     || R <- [R1, rec(<<"a">>, <<"spam">>, <<"bad">>, 11), rec(<<"b">>, <<"spam">>, <<"bad">>, 12),
	      rec(<<"b">>, <<"x">>, <<"bad">>, 13), rec(<<"b">>, <<"bob">>, <<"ok">>, 14),
	      rec(<<"c">>, <<>>, <<"bad">>, 15)]],
    ?assertEqual({3, 2, 1, [{<<"a">>, 2}, {<<"b">>, 1}]},
		 unread_nif:sender_impact(I, <<"spam@bad">>, jid, 10)),
    ?assertEqual({3, 2, 1, [{<<"a">>, 2}]}, unread_nif:sender_impact(I, <<"spam@bad">>, jid, 1)),
    ?assertEqual({5, 3, 3, [{<<"a">>, 2}, {<<"b">>, 2}, {<<"c">>, 1}]},
		 unread_nif:sender_impact(I, <<"bad">>, domain, 10)),
    ?assertEqual({1, 1, 1, []}, unread_nif:sender_impact(I, <<"bad">>, jid, 0)),
    ?assertEqual([{<<"a">>, 2}, {<<"b">>, 1}], unread_nif:sender_users(I, <<"spam@bad">>, jid)),
    ?assertEqual({0, 0, 0, []}, unread_nif:sender_impact(I, <<"nobody@x">>, jid, 10)),
    true = unread_nif:delete_object(I, R1),
    ?assertEqual([{<<"a">>, 1}, {<<"b">>, 1}], unread_nif:sender_users(I, <<"spam@bad">>, jid)),
    ?assertEqual(1, unread_nif:delete_user(I, <<"a">>)),
    ?assertEqual([{<<"b">>, 1}], unread_nif:sender_users(I, <<"spam@bad">>, jid)),
    ok = unread_nif:clear(I),
    ?assertEqual([], unread_nif:sender_users(I, <<"bad">>, domain)).

retention_test() ->
    I = unread_nif:new(),
    [true = unread_nif:insert(I, rec(U, F, <<"h">>, T), 64)
     || {U, F, T} <- [{<<"a">>, <<"old">>, 100}, {<<"a">>, <<"old">>, 200},
		      {<<"a">>, <<"new">>, 900}, {<<"b">>, <<"new">>, 150},
		      {<<"c">>, <<"new">>, 1000}]],
    ?assertEqual({3, 2, [{<<"old@h">>, 2}, {<<"new@h">>, 1}]}, unread_nif:older_than(I, 201, 5)),
    ?assertEqual({3, 2, [{<<"old@h">>, 2}]}, unread_nif:older_than(I, 201, 1)),
    ?assertEqual({0, 0, []}, unread_nif:older_than(I, 100, 5)),
    ?assertEqual([{<<"a">>, 2}, {<<"b">>, 1}], unread_nif:users_older_than(I, 201)),
    ?assertEqual({5, 3, []}, unread_nif:older_than(I, 1 bsl 62, 0)).

badarg_test_() ->
    I = unread_nif:new(),
    [?_assertError(badarg, unread_nif:sender_impact(I, <<"s">>, user, 1)),
     ?_assertError(badarg, unread_nif:sender_impact(I, "s", jid, 1)),
     ?_assertError(badarg, unread_nif:sender_impact(I, <<"s">>, jid, -1)),
     ?_assertError(badarg, unread_nif:sender_impact(I, <<"s">>, jid, 10001)),
     ?_assertError(badarg, unread_nif:sender_impact(make_ref(), <<"s">>, jid, 1)),
     ?_assertError(badarg, unread_nif:sender_users(I, <<"s">>, 1)),
     ?_assertError(badarg, unread_nif:older_than(I, 1.5, 1)),
     ?_assertError(badarg, unread_nif:older_than(I, 1 bsl 64, 1)),
     ?_assertError(badarg, unread_nif:older_than(I, 1, 10001)),
     ?_assertError(badarg, unread_nif:users_older_than(I, <<"1">>)),
     ?_assertError(badarg, unread_nif:users_older_than(x, 1))].
