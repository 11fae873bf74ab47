%%% PropEr: random sequences of store / deliver / remove operations, as
%%% mnesia reports them, keep the NIF index equal to a plain model of the
%%% store (a bag of records per user).
-module(unread_nif_prop_tests).

-include_lib("proper/include/proper.hrl").
-include_lib("eunit/include/eunit.hrl").

-define(USERS, [<<"alice">>, <<"bob">>, <<"carol">>]).
-define(SENDERS, [<<"s1">>, <<"s2">>]).

record() ->
    ?LET({U, F, Ts, Body}, {oneof(?USERS), oneof(?SENDERS), range(1, 30), oneof([<<"a">>, <<"b">>])},
	 unread_nif_tests:rec(U, F, Ts, Body)).

op() ->
    frequency([{6, {write, record()}},
	       {3, {delete_object, record()}},
	       {1, {delete_user, oneof(?USERS)}},
	       {1, {pop, oneof(?USERS)}},
	       {1, clear}]).

%% The model: the set of records in the bag, as mnesia keeps it.
apply_model({write, R}, M) -> lists:usort([R | M]);
apply_model({delete_object, R}, M) -> lists:delete(R, M);
apply_model({delete_user, U}, M) -> [R || R <- M, user(R) /= U];
apply_model({pop, U}, M) -> [R || R <- M, user(R) /= U];
apply_model(clear, _) -> [].

apply_index({write, R}, I) -> unread_nif:insert(I, R, 16);
apply_index({delete_object, R}, I) -> unread_nif:delete_object(I, R);
apply_index({delete_user, U}, I) -> unread_nif:delete_user(I, U);
%% Delivery at login is a delete of the user's key.
apply_index({pop, U}, I) -> unread_nif:delete_user(I, U);
apply_index(clear, I) -> unread_nif:clear(I).

user({offline_msg, {U, _}, _, _, _, _, _}) -> U.
sender({offline_msg, _, _, _, {jid, F, S, _, _, _, _}, _, _}) -> <<F/binary, $@, S/binary>>.
usec({offline_msg, _, {Me, S, Mi}, _, _, _, _}) -> (Me * 1000000 + S) * 1000000 + Mi.

same(I, M) ->
    lists:all(
      fun(U) ->
	      Mine = [R || R <- M, user(R) == U],
	      Senders = lists:sort([{S, length([x || R <- Mine, sender(R) == S])}
				    || S <- lists:usort([sender(R) || R <- Mine])]),
	      Ids = lists:reverse(lists:sort([usec(R) || R <- Mine])),
	      unread_nif:count(I, U) == length(Mine)
		  andalso lists:sort(unread_nif:senders(I, U)) == Senders
		  andalso [Id || {Id, _, _, _, _, _} <- unread_nif:page(I, U, 0, 1000, <<>>)] == Ids
      end, ?USERS)
	andalso element(1, unread_nif:stats(I)) == length(M)
	andalso lists:sort(unread_nif:top(I, 10)) ==
	    lists:sort([{U, N} || U <- ?USERS,
				  N <- [length([R || R <- M, user(R) == U])], N > 0]).

prop_index_equals_model() ->
    ?FORALL(Ops, list(op()),
	    begin
		I = unread_nif:new(),
		{_, Ok} = lists:foldl(
			    fun(Op, {M, true}) ->
				    apply_index(Op, I),
				    M1 = apply_model(Op, M),
				    {M1, same(I, M1)};
			       (_, Acc) -> Acc
			    end, {[], true}, Ops),
		Ok
	    end).

%% Any term at all, given where a record is expected, is a badarg or a
%% boolean: the VM never crashes.
prop_garbage_is_badarg() ->
    ?FORALL(T, any(),
	    begin
		I = unread_nif:new(),
		R = try unread_nif:insert(I, T, 8) catch error:badarg -> badarg end,
		lists:member(R, [true, false, badarg])
	    end).

model_test_() ->
    {timeout, 300,
     ?_assert(proper:quickcheck(prop_index_equals_model(), [{numtests, 500}, {to_file, user}]))}.

garbage_test_() ->
    {timeout, 120,
     ?_assert(proper:quickcheck(prop_garbage_is_badarg(), [{numtests, 2000}, {to_file, user}]))}.
