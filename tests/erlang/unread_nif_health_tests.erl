%%% EUnit tests of unread_nif:health/3: what it answers for records as
%%% mod_offline stores them, and badarg for every malformed argument.
-module(unread_nif_health_tests).

-include_lib("eunit/include/eunit.hrl").

rec(User, Usec) -> unread_nif_tests:rec(User, <<"s">>, Usec, <<"m">>).

empty_index_test() ->
    I = unread_nif:new(),
    ?assertEqual({0, 0, none, [0, 0], []}, unread_nif:health(I, [1, 5], 1)).

health_test() ->
    I = unread_nif:new(),
    %% a: 1 message, b: 3, c: 6, the oldest (id 5) c's.
    Recs = [rec(<<"a">>, 100)] ++ [rec(<<"b">>, 200 + N) || N <- lists:seq(1, 3)] ++
	[rec(<<"c">>, 5)] ++ [rec(<<"c">>, 300 + N) || N <- lists:seq(1, 5)],
    10 = unread_nif:insert_many(I, Recs, 8),
    ?assertEqual({3, 10, {5, <<"c">>}, [1, 2, 3], [{<<"c">>, 6}, {<<"b">>, 3}]},
		 unread_nif:health(I, [1, 5, 10], 3)),
    %% Threshold 0: nobody listed; no bounds: no buckets.
    ?assertEqual({3, 10, {5, <<"c">>}, [], []}, unread_nif:health(I, [], 0)),
    ?assertEqual(6, unread_nif:delete_user(I, <<"c">>)),
    ?assertEqual({2, 4, {100, <<"a">>}, [1, 2], []}, unread_nif:health(I, [1, 3], 4)).

bad(Fun) -> ?_assertError(badarg, Fun()).

badarg_test_() ->
    I = unread_nif:new(),
    [bad(fun() -> unread_nif:health(X, [1], 1) end) || X <- [make_ref(), self(), <<>>, 42]] ++
    [bad(fun() -> unread_nif:health(I, B, 1) end)
     || B <- [[5, 1], [1, 1], [-1], [a], [1.0], [1 | 2], not_a_list, 5,
	      lists:seq(1, 65)]] ++
    [bad(fun() -> unread_nif:health(I, [1], T) end) || T <- [-1, a, 1.5, 1 bsl 70]] ++
    %% 64 bounds are allowed.
    [?_assertMatch({0, 0, none, _, []}, unread_nif:health(I, lists:seq(1, 64), 1))].
