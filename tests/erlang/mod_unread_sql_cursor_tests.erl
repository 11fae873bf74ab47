%%% EUnit examples and PropEr properties of mod_unread_sql_cursor, against
%%% a model of a database whose log ids come from a sequence: writers take
%%% ids 1..N in order, each transaction commits some time later or rolls
%%% back, and a reader polls at its own times for `id > hi` plus the gaps,
%%% getting the committed rows in any order, sometimes twice, sometimes only
%%% the first K by id.
-module(mod_unread_sql_cursor_tests).

-include_lib("proper/include/proper.hrl").
-include_lib("eunit/include/eunit.hrl").

-define(C, mod_unread_sql_cursor).
-define(MAX_GAPS, 64).

%%%===================================================================
%%% EUnit examples
%%%===================================================================

in_order_test() ->
    C0 = ?C:new(0),
    {New, C1} = ?C:seen([1, 2, 3], 10, C0),
    ?assertEqual([1, 2, 3], New),
    ?assertEqual(3, ?C:hi(C1)),
    ?assertEqual(3, ?C:low(C1)),
    ?assertEqual([], ?C:gaps(C1)),
    {New2, C2} = ?C:seen([4, 5], 11, C1),
    ?assertEqual([4, 5], New2),
    ?assertEqual(5, ?C:low(C2)).

new_starts_above_hi_test() ->
    C = ?C:new(100),
    ?assertEqual({100, 100, []}, {?C:hi(C), ?C:low(C), ?C:gaps(C)}),
    ?assertMatch({[], _}, ?C:seen([99, 100], 1, C)),
    ?assertMatch({[101], _}, ?C:seen([101], 1, C)).

gap_filled_later_test() ->
    {New, C1} = ?C:seen([4, 1, 2], 10, ?C:new(0)),
    ?assertEqual([1, 2, 4], New),
    ?assertEqual(4, ?C:hi(C1)),
    ?assertEqual([{3, 3}], ?C:gaps(C1)),
    ?assertEqual(2, ?C:low(C1)),
    %% The reader asks for 3 again along with what is above 4.
    {New2, C2} = ?C:seen([3, 5], 11, C1),
    ?assertEqual([3, 5], New2),
    ?assertEqual([], ?C:gaps(C2)),
    ?assertEqual(5, ?C:low(C2)).

gap_split_by_middle_id_test() ->
    {_, C1} = ?C:seen([10], 0, ?C:new(0)),
    ?assertEqual([{1, 9}], ?C:gaps(C1)),
    {[5], C2} = ?C:seen([5], 1, C1),
    ?assertEqual([{1, 4}, {6, 9}], ?C:gaps(C2)),
    ?assertEqual(0, ?C:low(C2)),
    {[1, 2, 3, 4], C3} = ?C:seen([4, 3, 2, 1], 2, C2),
    ?assertEqual([{6, 9}], ?C:gaps(C3)),
    ?assertEqual(5, ?C:low(C3)).

gap_expires_test() ->
    {_, C1} = ?C:seen([1, 3], 10, ?C:new(0)),
    %% Timeout 5: still asked for at 15, given up on at 16.
    ?assertMatch({[], _}, ?C:expire(15, 5, C1)),
    {Gone, C2} = ?C:expire(16, 5, C1),
    ?assertEqual([{2, 2}], Gone),
    ?assertEqual([], ?C:gaps(C2)),
    ?assertEqual(3, ?C:low(C2)),
    %% A commit after the give-up is not reported: that is what Timeout bounds.
    ?assertMatch({[], _}, ?C:seen([2], 17, C2)).

duplicate_delivery_test() ->
    {New, C1} = ?C:seen([2, 1, 2, 1, 3, 3], 0, ?C:new(0)),
    ?assertEqual([1, 2, 3], New),
    ?assertMatch({[], _}, ?C:seen([3, 1, 2, 2], 1, C1)),
    %% A gap id delivered twice in one batch is new once.
    {_, C2} = ?C:seen([5], 2, C1),
    {New3, C3} = ?C:seen([4, 4, 5], 3, C2),
    ?assertEqual([4], New3),
    ?assertEqual([], ?C:gaps(C3)).

%% 65 one-id gaps (the odd ids below 131): the nearest two merge, and the
%% seen id between them is asked for, and reported, again.
merge_past_max_gaps_test() ->
    Evens = lists:seq(2, 130, 2),
    {New, C1} = ?C:seen(Evens, 0, ?C:new(0)),
    ?assertEqual(Evens, New),
    Gaps = ?C:gaps(C1),
    ?assertEqual(?MAX_GAPS, length(Gaps)),
    ?assertEqual([{1, 3} | [{I, I} || I <- lists:seq(5, 129, 2)]], Gaps),
    {New2, C2} = ?C:seen([2], 1, C1),
    ?assertEqual([2], New2),
    ?assertEqual(?MAX_GAPS, length(?C:gaps(C2))),
    %% The odd ids are all still asked for.
    Asked = asked(C2, 131),
    ?assert(lists:all(fun(I) -> lists:member(I, Asked) end, lists:seq(1, 129, 2))).

%% A merged gap must not be given up on before the younger of its parts:
%% ids the younger part holds may belong to transactions that started just
%% before it was noticed.
merge_keeps_younger_deadline_test() ->
    %% 64 two-id gaps noticed at time 0, three apart: {1,2}, {5,6} .. {253,254} ...
    Seen = [X || X <- lists:seq(1, 255), X rem 4 == 3 orelse X rem 4 == 0],
    {_, C1} = ?C:seen(Seen, 0, ?C:new(0)),
    ?assertEqual(64, length(?C:gaps(C1))),
    ?assertEqual({253, 254}, lists:last(?C:gaps(C1))),
    %% ... and a 65th at time 100, {256,256}, two from the last: they merge.
    {_, C2} = ?C:seen([257], 100, C1),
    ?assertEqual(64, length(?C:gaps(C2))),
    ?assertEqual({253, 256}, lists:last(?C:gaps(C2))),
    %% Timeout 10: at 50 the time-0 gaps are over, 256 (seen missing at 100) is not.
    {_, C3} = ?C:expire(50, 10, C2),
    ?assertEqual([{253, 256}], ?C:gaps(C3)),
    ?assertMatch({[256], _}, ?C:seen([256], 51, C3)),
    {_, C4} = ?C:expire(111, 10, C3),
    ?assertEqual([], ?C:gaps(C4)).

%% The price of the cap: while 65 gaps stay open (rolled-back ids wait for
%% their Timeout), the merge comes back after every poll, so the seen id it
%% covers is returned, and reported, on every poll.
merged_gap_redelivers_each_poll_test() ->
    {_, C1} = ?C:seen(lists:seq(2, 130, 2), 0, ?C:new(0)),
    {Reported, _} = lists:foldl(fun(T, {R, C}) ->
					{N, C2} = ?C:seen([2], T, C),
					{R ++ N, C2}
				end, {[], C1}, lists:seq(1, 5)),
    ?assertEqual([2, 2, 2, 2, 2], Reported).

forget_below_test() ->
    {_, C1} = ?C:seen([3, 7], 0, ?C:new(0)),
    ?assertEqual([{1, 2}, {4, 6}], ?C:gaps(C1)),
    C2 = ?C:forget_below(5, C1),
    ?assertEqual([{5, 6}], ?C:gaps(C2)),
    ?assertEqual(4, ?C:low(C2)),
    ?assertEqual(7, ?C:hi(C2)),
    %% Pruned past hi: everything below the argument counts as applied.
    C3 = ?C:forget_below(20, C1),
    ?assertEqual({19, 19, []}, {?C:hi(C3), ?C:low(C3), ?C:gaps(C3)}).

%% The reader fetching `id > hi ORDER BY id LIMIT K` gets the rest later.
limit_above_hi_test() ->
    Committed = [1, 2, 3, 5, 6, 7, 8],
    Poll = fun(C) ->
		   Hi = ?C:hi(C),
		   Above = lists:sublist([I || I <- Committed, I > Hi], 2),
		   InGaps = [I || I <- Committed, in_gaps(I, ?C:gaps(C))],
		   InGaps ++ Above
	   end,
    {Reported, C} = lists:foldl(fun(T, {R, C0}) ->
					{N, C1} = ?C:seen(Poll(C0), T, C0),
					{R ++ N, C1}
				end, {[], ?C:new(0)}, lists:seq(1, 5)),
    ?assertEqual(Committed, Reported),
    ?assertEqual(8, ?C:hi(C)),
    ?assertEqual([{4, 4}], ?C:gaps(C)).

%%%===================================================================
%%% The database model
%%%===================================================================

%% Txns: [{Id, AllocatedAt, CommitAt | rollback}], ids 1..N ascending.
%% Steps: [{Time, Poll}] ascending times; Poll = {Seed, Dup, Limit}.
-record(sc, {txns = [], steps = [], timeout = 0, pi = 1, d = 0}).

build_txns(L) ->
    {Txns, _} = lists:mapfoldl(
		  fun({{Inc, Outcome}, Id}, T0) ->
			  T = T0 + Inc,
			  C = case Outcome of rollback -> rollback; D -> T + D end,
			  {{Id, T, C}, T}
		  end, 0, lists:zip(L, lists:seq(1, length(L)))),
    Txns.

last_time(Txns) ->
    lists:max([0 | [max(A, case C of rollback -> A; _ -> C end) || {_, A, C} <- Txns]]).

%% Reader times from 0, each at most PI after the last, until past every
%% commit: so every commit has a poll within PI after it.
times(Incs, Tend) ->
    times(Incs, 0, Tend, []).
times(_, T, Tend, Acc) when T >= Tend -> lists:reverse([T | Acc]);
times([I | Is], T, Tend, Acc) -> times(Is, T + I, Tend, [T | Acc]).

limit(none) -> none;
limit(hi) -> frequency([{1, none}, {3, {hi, range(1, 8)}}]);
limit(union) -> frequency([{1, none}, {3, {union, range(1, 8)}}]).

poll(Mode) -> {range(1, 1 bsl 30), boolean(), limit(Mode)}.

%% MaxN ids; AllocInc: time between two allocations; RollbackW in 10 roll
%% back; commits within D of allocation; reader polls at most PI apart.
scenario(MinN, MaxN, AllocInc, RollbackW, D, PI, Timeout, Mode) ->
    ?LET(N, range(MinN, MaxN),
	 ?LET(L, vector(N, {AllocInc, frequency([{RollbackW, rollback}, {10, range(0, D)}])}),
	      begin
		  Txns = build_txns(L),
		  Tend = last_time(Txns),
		  ?LET({Incs, Polls, To}, {vector(Tend + 1, range(1, PI)),
					   vector(Tend + 2, poll(Mode)), Timeout},
		       begin
			   Times = times(Incs, Tend),
			   #sc{txns = Txns, timeout = To, pi = PI, d = D,
			       steps = lists:zip(Times, lists:sublist(Polls, length(Times)))}
		       end)
	      end)).

%% What the database returns at time T for `id > Hi OR id IN gaps
%% ORDER BY id [LIMIT K]`, and whether LIMIT cut something off. {hi, K}
%% limits only the `id > Hi` part (a query of its own); {union, K} the
%% whole of it.
db(Txns, T, Hi, Gaps, Limit) ->
    Committed = [Id || {Id, _, C} <- Txns, C /= rollback, C =< T],
    InGaps = [Id || Id <- Committed, Id =< Hi, in_gaps(Id, Gaps)],
    Above = [Id || Id <- Committed, Id > Hi],
    case Limit of
	none -> {InGaps ++ Above, false};
	{hi, K} -> {InGaps ++ lists:sublist(Above, K), length(Above) > K};
	{union, K} -> All = InGaps ++ Above,
		      {lists:sublist(All, K), length(All) > K}
    end.

in_gaps(Id, Gaps) -> lists:any(fun({F, T}) -> Id >= F andalso Id =< T end, Gaps).

%% The rows in an order of the seed's choosing, some of them twice if Dup.
deliver(Rows, Seed, Dup) ->
    S0 = rand:seed_s(exsss, {Seed, Seed + 1, Seed + 2}),
    {Extra, S1} = case Dup of
		      false -> {[], S0};
		      true -> lists:foldl(fun(R, {Acc, S}) ->
						  {X, S2} = rand:uniform_s(S),
						  {[R || X < 0.3] ++ Acc, S2}
					  end, {[], S0}, Rows)
		  end,
    {Keyed, _} = lists:mapfoldl(fun(R, S) -> {X, S2} = rand:uniform_s(S), {{X, R}, S2} end,
				S1, Rows ++ Extra),
    [R || {_, R} <- lists:sort(Keyed)].

%% Ids 1..Max the cursor asks for.
asked(C, Max) ->
    Hi = ?C:hi(C), Gaps = ?C:gaps(C),
    [I || I <- lists:seq(1, Max), I > Hi orelse in_gaps(I, Gaps)].

%%%===================================================================
%%% Running a scenario
%%%===================================================================

-record(st, {c,
	     alloc = #{},	 % Id => AllocatedAt
	     committed = #{},	 % Id => CommitAt
	     reported = #{},	 % Id => times reported as new
	     expired = #{},	 % Id => when given up on (first time)
	     covered = #{},	 % Id => true: reported, then asked for again (a merge)
	     low = 0,		 % low/1 so far; ids up to it were checked
	     merged = false,
	     max_gaps = 0,
	     polls = 0,
	     errors = []}).

run(#sc{txns = Txns, steps = Steps, timeout = To, pi = PI}) ->
    St0 = #st{c = ?C:new(0),
	      alloc = maps:from_list([{Id, A} || {Id, A, _} <- Txns]),
	      committed = maps:from_list([{Id, C} || {Id, _, C} <- Txns, C /= rollback])},
    St1 = lists:foldl(fun({T, Poll}, St) -> step(T, Poll, Txns, To, St) end, St0, Steps),
    %% Every commit is in by now; the reader goes on (time moving, so a
    %% cursor stuck on re-delivered rows comes free when they expire) until
    %% a poll is not cut off by LIMIT.
    {Tf, Last} = case Steps of [] -> {0, {1, false, none}}; _ -> lists:last(Steps) end,
    drain(Tf + PI, Last, Txns, To, St1, length(Txns) * (To + 3) + 10).

drain(_T, _Poll, _Txns, _To, St, 0) ->
    err({no_progress}, St);
drain(T, {Seed, Dup, Limit} = Poll, Txns, To, St, N) ->
    case step1(T, {Seed + N, Dup, Limit}, Txns, To, St) of
	{false, St1} -> St1;
	{true, St1} -> drain(T + 1, Poll, Txns, To, St1, N - 1)
    end.

step(T, Poll, Txns, To, St) ->
    {_, St1} = step1(T, Poll, Txns, To, St),
    St1.

%% The reader's loop: give up on old gaps, then poll and apply.
step1(T, {Seed, Dup, Limit}, Txns, To, #st{c = C0} = St0) ->
    {Gone, C1} = ?C:expire(T, To, C0),
    St1 = lists:foldl(fun(Id, St) -> gave_up(Id, T, To, St) end, St0#st{c = C1},
		      [I || {F, L} <- Gone, I <- lists:seq(F, L)]),
    St2 = check_low(St1),
    {Rows, Cut} = db(Txns, T, ?C:hi(C1), ?C:gaps(C1), Limit),
    Input = deliver(Rows, Seed, Dup),
    {New, C2} = ?C:seen(Input, T, C1),
    St3 = St2#st{c = C2, polls = St2#st.polls + 1},
    St4 = case New == lists:usort(New) of
	      true -> St3;
	      false -> err({new_not_ascending_unique, New}, St3)
	  end,
    St5 = case New -- Input of
	      [] -> St4;
	      Invented -> err({reported_not_given, T, Invented}, St4)
	  end,
    St6 = lists:foldl(fun reported/2, St5, New),
    St7 = check_shape(check_low(St6)),
    {Cut, note_merge(St7)}.

gave_up(Id, T, To, #st{alloc = A, reported = R, expired = E} = St) ->
    St1 = St#st{expired = maps:merge(#{Id => T}, E)},
    %% The gap holding Id was noticed by a poll after Id was allocated, so
    %% a cursor that waits Timeout from there gives up only after this.
    case maps:is_key(Id, R) orelse T - maps:get(Id, A, T) > To of
	true -> St1;
	false -> err({gave_up_early, Id, {allocated, maps:get(Id, A, none)}, {at, T}, {timeout, To}}, St1)
    end.

reported(Id, #st{reported = R, covered = Cov, committed = Com} = St) ->
    N = maps:get(Id, R, 0),
    St1 = St#st{reported = R#{Id => N + 1}},
    St2 = case maps:is_key(Id, Com) of
	      true -> St1;
	      false -> err({reported_never_committed, Id}, St1)
	  end,
    case N > 0 andalso not maps:is_key(Id, Cov) of
	true -> err({reported_twice_without_merge, Id}, St2);
	false -> St2
    end.

%% low/1 never goes down, and every id up to it is reported or given up on.
check_low(#st{c = C, low = L0, reported = R, expired = E} = St) ->
    L = ?C:low(C),
    if L < L0 -> err({low_decreased, L0, L}, St);
       true ->
	    Bad = [I || I <- lists:seq(L0 + 1, L), not maps:is_key(I, R), not maps:is_key(I, E)],
	    St1 = St#st{low = L},
	    case Bad of [] -> St1; _ -> err({below_low_not_done, L, Bad}, St1) end
    end.

%% Gaps ascending, disjoint, below hi; at most ?MAX_GAPS.
check_shape(#st{c = C} = St) ->
    Gaps = ?C:gaps(C),
    Ok = length(Gaps) =< ?MAX_GAPS andalso ascending(0, Gaps, ?C:hi(C)),
    St1 = St#st{max_gaps = max(St#st.max_gaps, length(Gaps))},
    case Ok of true -> St1; false -> err({bad_gaps, Gaps, ?C:hi(C)}, St1) end.

ascending(Prev, [], Hi) -> Prev < Hi orelse Prev == 0;
ascending(Prev, [{F, T} | Gs], Hi) -> F > Prev andalso F =< T andalso ascending(T, Gs, Hi).

%% Only a merge, which leaves exactly ?MAX_GAPS, makes the cursor ask
%% again for reported ids; those may then be reported again.
note_merge(#st{c = C, reported = R, covered = Cov} = St) ->
    case ?C:gaps(C) of
	Gaps when length(Gaps) == ?MAX_GAPS ->
	    Again = [I || {F, T} <- Gaps, I <- lists:seq(F, T), maps:is_key(I, R)],
	    St#st{merged = St#st.merged orelse Again /= [],
		  covered = maps:merge(Cov, maps:from_list([{I, true} || I <- Again]))};
	Gaps ->
	    Again = [I || {F, T} <- Gaps, I <- lists:seq(F, T), maps:is_key(I, R),
			  not maps:is_key(I, Cov)],
	    case Again of [] -> St; _ -> err({asked_again_without_merge, Again}, St) end
    end.

err(E, #st{errors = Es} = St) when length(Es) < 5 -> St#st{errors = [E | Es]};
err(_, St) -> St.

%% Committed ids neither reported nor given up on / not reported at all.
unaccounted(#st{committed = Com, reported = R, expired = E}) ->
    [I || I <- lists:sort(maps:keys(Com)), not maps:is_key(I, R), not maps:is_key(I, E)].
lost(#st{committed = Com, reported = R}) ->
    [I || I <- lists:sort(maps:keys(Com)), not maps:is_key(I, R)].
twice(#st{reported = R}) ->
    lists:sort([I || {I, N} <- maps:to_list(R), N > 1]).

report(Sc, St, Extra) ->
    io:format(user, "~nscenario: ~p~nerrors: ~p~nlost: ~p~nunaccounted: ~p~ntwice: ~p~n"
	      "max gaps: ~p, merged: ~p, ~p~n",
	      [Sc, St#st.errors, lost(St), unaccounted(St), twice(St),
	       St#st.max_gaps, St#st.merged, Extra]).

%%%===================================================================
%%% Properties
%%%===================================================================

%% (1)-(4) with few ids (never 64 gaps: each gap needs a seen id after it),
%% transactions shorter than Timeout - PI, LIMIT only on `id > hi`:
%% every committed id is reported, exactly once; nothing else is.
prop_few_in_time_exactly_once() ->
    ?FORALL(Sc, ?LET({D, PI}, {range(0, 12), range(1, 5)},
		     scenario(0, 2 * ?MAX_GAPS, range(0, 2), 3, D, PI,
			      range(D + PI, D + PI + 5), hi)),
	    begin
		St = run(Sc),
		?WHENFAIL(report(Sc, St, few),
			  St#st.errors == [] andalso lost(St) == [] andalso twice(St) == []
			  andalso St#st.max_gaps < ?MAX_GAPS)
	    end).

%% (1)-(4) with many concurrent transactions and rollbacks, so that more
%% than 64 gaps are open: ids may come twice (only ones a merge asked for
%% again), but nothing committed in time is lost.
prop_many_in_time_none_lost() ->
    ?FORALL(Sc, ?LET({D, PI}, {range(5, 30), range(1, 4)},
		     scenario(150, 500, frequency([{19, 0}, {1, 1}]), 6, D, PI,
			      range(D + PI, D + PI + 10), hi)),
	    begin
		St = run(Sc),
		collect(if St#st.max_gaps >= ?MAX_GAPS -> over_64_gaps; true -> under_64_gaps end,
		?WHENFAIL(report(Sc, St, many),
			  St#st.errors == [] andalso lost(St) == []))
	    end).

%% (1) with any Timeout, too short for some transactions: what is not
%% reported was given up on, and nothing is given up on within Timeout of
%% its allocation; (2)-(4) as always.
prop_short_timeout_gives_up_late_enough() ->
    ?FORALL(Sc, ?LET({D, PI}, {range(0, 30), range(1, 4)},
		     oneof([scenario(0, 2 * ?MAX_GAPS, range(0, 2), 3, D, PI, range(0, D), hi),
			    scenario(100, 400, frequency([{19, 0}, {1, 1}]), 6, D, PI,
				     range(0, D + PI), hi)])),
	    begin
		St = run(Sc),
		?WHENFAIL(report(Sc, St, short),
			  St#st.errors == [] andalso unaccounted(St) == [])
	    end).

%% LIMIT on the whole query (gaps and `id > hi` together): every committed
%% id is reported or given up on, and give-ups are no earlier than Timeout.
prop_union_limit_accounted() ->
    ?FORALL(Sc, ?LET({D, PI}, {range(0, 20), range(1, 4)},
		     oneof([scenario(0, 2 * ?MAX_GAPS, range(0, 2), 3, D, PI,
				     range(D + PI, D + PI + 5), union),
			    scenario(100, 400, frequency([{19, 0}, {1, 1}]), 6, D, PI,
				     range(D + PI, D + PI + 10), union)])),
	    begin
		St = run(Sc),
		?WHENFAIL(report(Sc, St, union),
			  St#st.errors == [] andalso unaccounted(St) == [])
	    end).

%% (5) From any cursor, forget_below(Id) stops asking for exactly the ids
%% below Id, and low/1 does not go down.
cursor_ops() ->
    list(frequency([{5, {seen, list(range(1, 200)), range(0, 50)}},
		    {1, {expire, range(0, 100), range(0, 30)}}])).

build_cursor(Hi0, Ops) ->
    lists:foldl(fun({seen, Ids, T}, C) -> element(2, ?C:seen(Ids, T, C));
		   ({expire, T, To}, C) -> element(2, ?C:expire(T, To, C))
		end, ?C:new(Hi0), Ops).

prop_forget_below_exact() ->
    ?FORALL({Hi0, Ops, Id}, {range(0, 20), cursor_ops(), range(1, 260)},
	    begin
		C = build_cursor(Hi0, Ops),
		C1 = ?C:forget_below(Id, C),
		Max = 300,
		Expected = [I || I <- asked(C, Max), I >= Id],
		?WHENFAIL(io:format(user, "gaps ~p hi ~p -> gaps ~p hi ~p~n",
				    [?C:gaps(C), ?C:hi(C), ?C:gaps(C1), ?C:hi(C1)]),
			  asked(C1, Max) == Expected
			  andalso ?C:low(C1) >= ?C:low(C)
			  andalso ?C:low(C1) >= Id - 1)
	    end).

%%%===================================================================
%%% Running the properties
%%%===================================================================

qc(P, N) -> proper:quickcheck(P, [{numtests, N}, {to_file, user}]).

few_in_time_test_() ->
    {timeout, 300, ?_assert(qc(prop_few_in_time_exactly_once(), 1000))}.
many_in_time_test_() ->
    {timeout, 300, ?_assert(qc(prop_many_in_time_none_lost(), 500))}.
short_timeout_test_() ->
    {timeout, 300, ?_assert(qc(prop_short_timeout_gives_up_late_enough(), 300))}.
union_limit_test_() ->
    {timeout, 300, ?_assert(qc(prop_union_limit_accounted(), 500))}.
forget_below_prop_test_() ->
    {timeout, 120, ?_assert(qc(prop_forget_below_exact(), 1000))}.
