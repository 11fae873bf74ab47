%%%----------------------------------------------------------------------
%%% File    : mod_unread_sql_cursor.erl
%%% Purpose : Which change-log ids a node has applied, for mod_unread_sql.
%%%
%%% Log ids come from a sequence: they are handed out when a row is written
%%% but become visible when its transaction commits, so a reader that asks
%%% for "id > last" can see id 8 before id 7 commits. A cursor that simply
%%% moved to 8 would never see 7. This one remembers the ids it skipped as
%%% gaps and asks for them again until they show up or are old enough that
%%% no transaction can still hold them (ids of rolled-back transactions
%%% never show up: sequences do not give numbers back).
%%%
%%% Pure data, no I/O, so it is tested against a model with PropEr.
%%%----------------------------------------------------------------------
-module(mod_unread_sql_cursor).

-export([new/1, hi/1, low/1, gaps/1, seen/3, expire/3, forget_below/2]).

%% At most this many gaps are remembered; past it the two nearest merge.
%% A merged gap also covers ids that were seen already: asking for them
%% again returns them again, and applying a change twice changes nothing.
-define(MAX_GAPS, 64).

-record(cursor, {hi :: non_neg_integer(),
		 %% Ascending, disjoint, each below hi: ids From..To (inclusive)
		 %% not seen yet, missing since Since (caller's clock).
		 gaps = [] :: [{pos_integer(), pos_integer(), integer()}]}).

-opaque cursor() :: #cursor{}.
-export_type([cursor/0]).

%% A cursor that has applied every id up to Hi.
-spec new(non_neg_integer()) -> cursor().
new(Hi) when is_integer(Hi), Hi >= 0 ->
    #cursor{hi = Hi}.

%% Ask for ids above this.
-spec hi(cursor()) -> non_neg_integer().
hi(#cursor{hi = Hi}) -> Hi.

%% Every id up to low/1 has been applied (or given up on).
-spec low(cursor()) -> non_neg_integer().
low(#cursor{hi = Hi, gaps = []}) -> Hi;
low(#cursor{gaps = [{From, _, _} | _]}) -> From - 1.

%% Ask for these ranges too.
-spec gaps(cursor()) -> [{pos_integer(), pos_integer()}].
gaps(#cursor{gaps = Gaps}) -> [{F, T} || {F, T, _} <- Gaps].

%% Ids read from the log (any order, duplicates allowed) at time Now.
%% Returns the ones that were not applied before, ascending, and the cursor
%% that has them applied.
-spec seen([pos_integer()], integer(), cursor()) -> {[pos_integer()], cursor()}.
seen(Ids, Now, Cursor) ->
    {New, C} = lists:foldl(fun(Id, Acc) -> see(Id, Now, Acc) end,
			   {[], Cursor}, lists:usort(Ids)),
    {lists:reverse(New), cap(C)}.

see(Id, Now, {New, #cursor{hi = Hi, gaps = Gaps} = C}) when Id > Hi ->
    Gaps1 = case Id > Hi + 1 of
		true -> Gaps ++ [{Hi + 1, Id - 1, Now}];
		false -> Gaps
	    end,
    {[Id | New], C#cursor{hi = Id, gaps = Gaps1}};
see(Id, _Now, {New, #cursor{gaps = Gaps} = C}) ->
    case take(Id, Gaps) of
	{true, Gaps1} -> {[Id | New], C#cursor{gaps = Gaps1}};
	false -> {New, C}
    end.

%% Removes Id from the gap holding it.
take(_Id, []) ->
    false;
take(Id, [{F, T, S} | Rest]) when Id >= F, Id =< T ->
    Left = [{F, Id - 1, S} || Id > F],
    Right = [{Id + 1, T, S} || Id < T],
    {true, Left ++ Right ++ Rest};
take(Id, [G | Rest]) ->
    case take(Id, Rest) of
	{true, Rest1} -> {true, [G | Rest1]};
	false -> false
    end.

cap(#cursor{gaps = Gaps} = C) when length(Gaps) =< ?MAX_GAPS ->
    C;
cap(#cursor{gaps = Gaps} = C) ->
    cap(C#cursor{gaps = merge_nearest(Gaps)}).

merge_nearest(Gaps) ->
    Dists = [F2 - T1 || {{_, T1, _}, {F2, _, _}} <- lists:zip(lists:droplast(Gaps), tl(Gaps))],
    {_, I} = lists:min(lists:zip(Dists, lists:seq(1, length(Dists)))),
    {Before, [{F, _, S1}, {_, T, S2} | After]} = lists:split(I - 1, Gaps),
    %% The later time: with the earlier one, the younger gap's ids would be
    %% given up on before their own Timeout, while their transactions may
    %% still commit. The older gap's ids are merely asked for longer.
    Before ++ [{F, T, max(S1, S2)}] ++ After.

%% Gives up on gaps missing since before Now - Timeout: no transaction is
%% expected to stay open that long. Returns the ranges given up on.
-spec expire(integer(), non_neg_integer(), cursor()) ->
		    {[{pos_integer(), pos_integer()}], cursor()}.
expire(Now, Timeout, #cursor{gaps = Gaps} = C) ->
    {Old, Young} = lists:partition(fun({_, _, S}) -> Now - S > Timeout end, Gaps),
    {[{F, T} || {F, T, _} <- Old], C#cursor{gaps = Young}}.

%% Ids below Id are gone from the log (pruned): stop asking for them.
-spec forget_below(pos_integer(), cursor()) -> cursor().
forget_below(Id, #cursor{hi = Hi, gaps = Gaps} = C) ->
    Gaps1 = [{max(F, Id), T, S} || {F, T, S} <- Gaps, T >= Id],
    C#cursor{hi = max(Hi, Id - 1), gaps = Gaps1}.
