%%%----------------------------------------------------------------------
%%% File    : mod_unread_health.erl
%%% Purpose : The backlog of a host's unread index: oldest unread message,
%%%           histogram of queue lengths, users at or near their
%%%           max_user_offline_messages limit. Shared by the unread_health
%%%           commands (mod_unread_commands) and the Prometheus endpoint
%%%           (mod_unread_metrics).
%%%
%%% The index answers everything but the limits in one NIF pass
%%% (unread_nif:health/3). A user's limit is what mod_offline itself would
%%% use: its access_max_user_messages shaper rule matched on the user's JID
%%% (mod_offline:get_max_user_messages/2 is not exported, so it is redone
%%% here as in 23.01). Matching a rule costs microseconds per user, so it is
%%% done only for the users the index returns as candidates: those with at
%%% least Fraction x the smallest limit any branch of the rule can give.
%%% Whatever the rule, that is every user who can be near its own limit.
%%%----------------------------------------------------------------------
-module(mod_unread_health).

-export([host/1, buckets/0, limit/2, min_limit/1]).

-include("xmpp.hrl").

%% Upper bounds ("le") of the queue length histogram; +Inf is every user
%% with unread messages.
-define(BUCKETS, [1, 5, 10, 50, 100, 500, 1000, 5000]).
%% mod_offline's ?MAX_USER_MESSAGES: the limit when no branch of the rule
%% matches.
-define(NO_LIMIT, infinity).

-type limit() :: pos_integer() | infinity.
-type user_limit() :: {User :: binary(), Count :: pos_integer(), Limit :: pos_integer(),
		       at_limit | near_limit}.
-export_type([user_limit/0]).

-spec buckets() -> [pos_integer()].
buckets() -> ?BUCKETS.

%% The backlog of Host as a map:
%%   state: ready | rebuilding (first build: nothing else is known) |
%%          {stale, Since} (the store cannot be read; the index answers from
%%          what it last knew);
%%   users, messages, oldest (none | {IdUsec, LUser}), buckets ([{Le, N}],
%%   cumulative), near_fraction, limited ([user_limit()], at limit first,
%%   then near, each by count descending).
-spec host(binary()) -> map().
host(Host) ->
    Fraction = mod_unread_opt_near(Host),
    Base = #{host => Host, near_fraction => Fraction},
    case mod_unread_server:lookup(Host) of
	rebuilding ->
	    Base#{state => rebuilding, users => 0, messages => 0, oldest => none,
		  buckets => [{B, 0} || B <- ?BUCKETS], limited => []};
	{ok, Index} ->
	    Access = access(Host),
	    Threshold = case min_limit(Access, Host) of
			    infinity -> 0;
			    Min -> max(1, near_count(Fraction, Min))
			end,
	    {Users, Messages, Oldest, Counts, Candidates} =
		unread_nif:health(Index, ?BUCKETS, Threshold),
	    Limited = lists:filtermap(
			fun({LUser, N}) -> classify(LUser, N, Host, Access, Fraction) end,
			Candidates),
	    {At, Near} = lists:partition(fun(T) -> element(4, T) == at_limit end, Limited),
	    Base#{state => state(Host), users => Users, messages => Messages, oldest => Oldest,
		  buckets => lists:zip(?BUCKETS, Counts), limited => At ++ Near};
	disabled ->
	    erlang:error({not_indexed, Host})
    end.

classify(LUser, N, Host, Access, Fraction) ->
    case limit(Access, jid:make(LUser, Host)) of
	infinity -> false;
	Limit when N >= Limit -> {true, {LUser, N, Limit, at_limit}};
	Limit ->
	    case N >= near_count(Fraction, Limit) of
		true -> {true, {LUser, N, Limit, near_limit}};
		false -> false
	    end
    end.

%% The smallest count that is "near" Limit. The epsilon keeps 0.9 x 20
%% (18.000000000000004 in floating point) at 18.
near_count(Fraction, Limit) ->
    ceil(Fraction * Limit - 1.0e-9).

mod_unread_opt_near(Host) ->
    gen_mod:get_module_opt(Host, mod_unread, health_near_limit).

access(Host) ->
    gen_mod:get_module_opt(Host, mod_offline, access_max_user_messages).

state(Host) ->
    try mod_unread_server:info(Host) of
	#{store_status := {unreachable, Since}} -> {stale, Since};
	#{state := St} -> St
    catch exit:_ -> ready
    end.

%% A user's limit as mod_offline:get_max_user_messages/2 computes it in
%% ejabberd 23.01: the shaper rule's value if an integer, else no limit.
-spec limit(atom() | list(), jid:jid()) -> limit().
limit(Access, JID) ->
    case ejabberd_shaper:match(JID#jid.lserver, Access, JID) of
	Max when is_integer(Max) -> Max;
	infinity -> infinity;
	_ -> ?NO_LIMIT
    end.

-spec min_limit(binary()) -> limit().
min_limit(Host) ->
    min_limit(access(Host), Host).

%% The smallest limit any branch of the rule can give. The rules are read
%% where ejabberd_shaper keeps them (its shaper_rules and shaper tables);
%% if that ever fails, 1, so that every user is a candidate: slower, never
%% wrong.
min_limit(infinity, _Host) -> infinity;
min_limit(none, _Host) -> ?NO_LIMIT;
min_limit(Access, Host) ->
    try
	Rules = if is_atom(Access) ->
			case ets:lookup(shaper_rules, {Access, Host}) of
			    [{_, R}] -> R;
			    [] -> []
			end;
		   true -> Access
		end,
	lists:foldl(fun({Value, _Acls}, Min) -> min(Min, value_limit(Value)) end,
		    ?NO_LIMIT, Rules)
    catch _:_ -> 1
    end.

%% Integers sort before atoms, so min/2 keeps an integer over infinity.
value_limit(N) when is_integer(N) -> N;
value_limit(infinity) -> infinity;
value_limit(Name) when is_atom(Name) ->
    case ets:lookup(shaper, Name) of
	[{_, N}] when is_integer(N) -> N;
	_ -> infinity
    end;
value_limit(_) -> infinity.
