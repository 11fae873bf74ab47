%%% EUnit tests of the NIF API: every malformed argument is a badarg, never a
%%% crash, and well-formed calls answer what the records say.
-module(unread_nif_tests).

-include_lib("eunit/include/eunit.hrl").

-export([rec/4, rec/5]).

jid(U, S) -> {jid, U, S, <<>>, U, S, <<>>}.

%% An #offline_msg{} as mod_offline's mnesia backend stores it.
rec(User, From, Usec, Body) ->
    rec(User, From, Usec, Body, <<"chat">>).
rec(User, From, Usec, Body, Type) ->
    Pkt = {xmlel, <<"message">>, [{<<"type">>, Type}],
	   [{xmlel, <<"body">>, [], [{xmlcdata, Body}]}]},
    {offline_msg, {User, <<"h">>}, {Usec div 1000000000000, (Usec div 1000000) rem 1000000,
				    Usec rem 1000000},
     never, jid(From, <<"h">>), jid(User, <<"h">>), Pkt}.

%% page/5 without the keys, which are opaque.
page(I, U, Offset, Limit, From) ->
    [{Id, F, T, S, P} || {Id, _Key, F, T, S, P} <- unread_nif:page(I, U, Offset, Limit, From)].

basic_test() ->
    I = unread_nif:new(),
    ?assert(unread_nif:insert(I, rec(<<"a">>, <<"b">>, 10, <<"hi">>), 64)),
    ?assertNot(unread_nif:insert(I, rec(<<"a">>, <<"b">>, 10, <<"hi">>), 64)),
    ?assert(unread_nif:insert(I, rec(<<"a">>, <<"c">>, 20, <<"yo">>, <<"headline">>), 64)),
    ?assertEqual(2, unread_nif:count(I, <<"a">>)),
    ?assertEqual(0, unread_nif:count(I, <<"zz">>)),
    ?assertEqual([{<<"b@h">>, 1}, {<<"c@h">>, 1}], unread_nif:senders(I, <<"a">>)),
    ?assertEqual([{20, <<"c@h">>, headline, <<>>, <<"yo">>},
		  {10, <<"b@h">>, chat, <<>>, <<"hi">>}],
		 page(I, <<"a">>, 0, 10, <<>>)),
    ?assertEqual([{10, <<"b@h">>, chat, <<>>, <<"hi">>}],
		 page(I, <<"a">>, 0, 10, <<"b@h">>)),
    ?assertEqual([{<<"a">>, 2}], unread_nif:top(I, 5)),
    ?assertMatch({2, 1, Bytes} when Bytes > 0, unread_nif:stats(I)),
    ?assert(unread_nif:delete_object(I, rec(<<"a">>, <<"b">>, 10, <<"hi">>))),
    ?assertNot(unread_nif:delete_object(I, rec(<<"a">>, <<"b">>, 10, <<"other">>))),
    ?assertEqual(1, unread_nif:delete_user(I, <<"a">>)),
    ?assertEqual(ok, unread_nif:clear(I)),
    ?assertEqual({0, 0, element(3, unread_nif:stats(I))}, unread_nif:stats(I)).

preview_is_cut_on_characters_test() ->
    I = unread_nif:new(),
    Body = unicode:characters_to_binary(lists:duplicate(10, 16#e9)),
    unread_nif:insert(I, rec(<<"a">>, <<"b">>, 1, Body), 3),
    [{1, _, _, _, _, Preview}] = unread_nif:page(I, <<"a">>, 0, 1, <<>>),
    ?assertEqual(unicode:characters_to_binary([16#e9, 16#e9, 16#e9]), Preview).

xmpp_message_record_packet_test() ->
    %% An xmpp #message{} instead of an #xmlel{}: subject and body are read.
    Msg = {message, <<>>, normal, <<>>, undefined, undefined,
	   [{text, <<>>, <<"Subj">>}], [{text, <<"de">>, <<"Hallo">>}, {text, <<>>, <<"Hello">>}],
	   undefined, [], #{}},
    R = setelement(7, rec(<<"a">>, <<"b">>, 5, <<>>), Msg),
    I = unread_nif:new(),
    ?assert(unread_nif:insert(I, R, 64)),
    ?assertEqual([{5, <<"b@h">>, normal, <<"Subj">>, <<"Hello">>}],
		 page(I, <<"a">>, 0, 1, <<>>)),
    [{5, Key, _, _, _, _}] = unread_nif:page(I, <<"a">>, 0, 1, <<>>),
    ?assertEqual([{5, Key, <<"Hello">>}], unread_nif:bodies([R], [{5, Key}])).

insert_many_test() ->
    I = unread_nif:new(),
    Recs = [rec(U, <<"b">>, N, <<"m">>) || U <- [<<"a">>, <<"c">>], N <- lists:seq(1, 500)],
    ?assertEqual(1000, unread_nif:insert_many(I, Recs, 10)),
    %% Identical records are one message of the bag: nothing new.
    ?assertEqual(0, unread_nif:insert_many(I, lists:reverse(Recs), 10)),
    ?assertEqual(500, unread_nif:count(I, <<"a">>)),
    ?assertEqual([{<<"a">>, 500}, {<<"c">>, 500}], unread_nif:top(I, 5)),
    %% A malformed record anywhere fails the call with nothing inserted.
    J = unread_nif:new(),
    ?assertError(badarg, unread_nif:insert_many(J, Recs ++ [bad], 10)),
    ?assertEqual({0, 0, element(3, unread_nif:stats(J))}, unread_nif:stats(J)).

diff_and_replace_user_test() ->
    A = unread_nif:new(),
    B = unread_nif:new(),
    unread_nif:insert(A, rec(<<"u">>, <<"b">>, 1, <<"x">>), 8),
    unread_nif:insert(B, rec(<<"u">>, <<"b">>, 2, <<"y">>), 8),
    ?assertEqual([{<<"u">>, 1, 1, 1, 1}], unread_nif:diff(A, B)),
    ?assertEqual([], unread_nif:diff(A, A)),
    ?assertEqual({<<"u">>, 1, 1, 1, 1},
		 unread_nif:replace_user(A, <<"h">>, <<"u">>, [rec(<<"u">>, <<"b">>, 2, <<"y">>)], 8)),
    ?assertEqual([], unread_nif:diff(A, B)),
    ?assertError(badarg,
		 unread_nif:replace_user(A, <<"h">>, <<"u">>, [rec(<<"v">>, <<"b">>, 2, <<"y">>)], 8)).

large_page_and_top_run_dirty_test() ->
    I = unread_nif:new(),
    unread_nif:insert_many(I, [rec(<<"a">>, <<"b">>, N, <<"m">>) || N <- lists:seq(1, 3000)], 4),
    ?assertEqual(1000, length(unread_nif:page(I, <<"a">>, 0, 1000, <<>>))),
    ?assertEqual(10, length(unread_nif:page(I, <<"a">>, 2990, 1000, <<>>))),
    ?assertEqual([{<<"a">>, 3000}], unread_nif:top(I, 5000)),
    %% Long queues: senders and delete_user move to a dirty scheduler.
    ?assertEqual([{<<"b@h">>, 3000}], unread_nif:senders(I, <<"a">>)),
    ?assertEqual(3000, unread_nif:delete_user(I, <<"a">>)),
    ?assertEqual(0, unread_nif:count(I, <<"a">>)).

bad(Fun) -> ?_assertError(badarg, Fun()).

badarg_test_() ->
    I = unread_nif:new(),
    R = rec(<<"a">>, <<"b">>, 1, <<"m">>),
    BadTs = [{1, 2}, {-1, 0, 0}, {0, 1000000, 0}, {0, 0, 1000000}, {a, b, c}, 1.5],
    BadJids = [{jid, a, b, c, d, e, f}, {jid, <<>>, <<>>, <<>>, <<>>}, <<"b@h">>],
    BadPackets = [<<"<message/>">>, {xmlel, <<"message">>}, {message, 1}, []],
    NotIndex = [make_ref(), self(), <<>>, {index}, 42],
    [bad(fun() -> unread_nif:insert(X, R, 1) end) || X <- NotIndex] ++
    [bad(fun() -> unread_nif:insert(I, setelement(3, R, T), 1) end) || T <- BadTs] ++
    [bad(fun() -> unread_nif:insert(I, setelement(5, R, J), 1) end) || J <- BadJids] ++
    [bad(fun() -> unread_nif:insert(I, setelement(7, R, P), 1) end) || P <- BadPackets] ++
    [bad(fun() -> unread_nif:insert(I, X, 1) end)
     || X <- [{}, setelement(1, R, other), erlang:delete_element(7, R),
	      setelement(2, R, {<<"a">>}), setelement(2, R, {a, <<"h">>}), "string"]] ++
    [bad(fun() -> unread_nif:insert(I, R, N) end) || N <- [-1, a, 1.0, 1 bsl 70]] ++
    [bad(fun() -> unread_nif:insert_many(I, L, 1) end)
     || L <- [R, [R | R], [R, 1], not_a_list]] ++
    [bad(fun() -> unread_nif:bodies(L, []) end) || L <- [R, [R | R], [R, 1], not_a_list]] ++
    [bad(fun() -> unread_nif:bodies([R], W) end)
     || W <- [{1, 2}, [1], [{1}], [{1, -2}], [{a, 2}], [{1, 2} | x]]] ++
    [bad(fun() -> unread_nif:insert_many(make_ref(), [R], 1) end),
     bad(fun() -> unread_nif:insert_many(I, [R], -1) end),
     bad(fun() -> unread_nif:delete_object(I, {offline_msg}) end),
     bad(fun() -> unread_nif:delete_user(I, "a") end),
     bad(fun() -> unread_nif:delete_user(I, a) end),
     bad(fun() -> unread_nif:clear(make_ref()) end),
     bad(fun() -> unread_nif:count(I, ["a"]) end),
     bad(fun() -> unread_nif:senders(I, {}) end),
     bad(fun() -> unread_nif:page(I, <<"a">>, -1, 10, <<>>) end),
     bad(fun() -> unread_nif:page(I, <<"a">>, 0, 10001, <<>>) end),
     bad(fun() -> unread_nif:page(I, <<"a">>, 0, 10, from) end),
     bad(fun() -> unread_nif:page(I, a, 0, 10, <<>>) end),
     bad(fun() -> unread_nif:top(I, -5) end),
     bad(fun() -> unread_nif:top(I, 10001) end),
     bad(fun() -> unread_nif:stats(<<"x">>) end),
     bad(fun() -> unread_nif:diff(I, make_ref()) end),
     bad(fun() -> unread_nif:replace_user(I, <<"h">>, <<"a">>, [bad], 1) end),
     bad(fun() -> unread_nif:replace_user(I, <<"h">>, <<"a">>, R, 1) end)].

%% Resources are freed when unreferenced: indexes built (and filled) by a
%% process that then exits are all destroyed once the VM collects them.
indexes_are_freed_test() ->
    Recs = [rec(<<"u">>, <<"b">>, N, binary:copy(<<"x">>, 200)) || N <- lists:seq(1, 2000)],
    Before = unread_nif:live_indexes(),
    {Pid, Ref} = spawn_monitor(
		   fun() ->
			   Is = [unread_nif:new() || _ <- lists:seq(1, 50)],
			   [unread_nif:insert_many(I, Recs, 200) || I <- Is],
			   exit({made, unread_nif:live_indexes()})
		   end),
    receive {'DOWN', Ref, process, Pid, {made, Made}} -> ?assertEqual(Before + 50, Made) end,
    %% =<: indexes of earlier tests may be collected meanwhile too.
    ?assert(wait_until(fun() -> unread_nif:live_indexes() =< Before end, 100)).

wait_until(_, 0) -> false;
wait_until(F, N) ->
    erlang:garbage_collect(),
    case F() of
	true -> true;
	false -> timer:sleep(20), wait_until(F, N - 1)
    end.
