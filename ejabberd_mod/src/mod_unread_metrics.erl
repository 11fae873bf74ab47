%%%----------------------------------------------------------------------
%%% File    : mod_unread_metrics.erl
%%% Purpose : Backlog health of the unread index in Prometheus' text
%%%           format, served by ejabberd's own HTTP listener:
%%%
%%%   listen:
%%%     - port: 5280
%%%       module: ejabberd_http
%%%       request_handlers:
%%%         /metrics: mod_unread_metrics
%%%
%%% A request handler (process/2, as ejabberd_http calls it), not a gen_mod:
%%% it reads what mod_unread_health computes for each host where mod_unread
%%% runs. Each host is shown only to clients its mod_unread option
%%% metrics_access allows (matched on the client's address; loopback by
%%% default); a client allowed for no host gets 403.
%%%----------------------------------------------------------------------
-module(mod_unread_metrics).

-export([process/2, render/1]).

-include("logger.hrl").
-include("ejabberd_http.hrl").

-define(CONTENT_TYPE, <<"text/plain; version=0.0.4">>).
-define(STATES, [ready, rebuilding, stale, refused]).

process([], #request{method = Method, ip = {IP, _Port}}) when Method == 'GET';
							      Method == 'HEAD' ->
    All = [{H, indexed} || H <- mod_unread:loaded_hosts()] ++
	[{H, refused} || {H, _} <- mod_unread:refused_hosts()],
    case [HK || {H, _} = HK <- All, allowed(H, IP)] of
	[] when All == [] ->
	    text(503, <<"mod_unread runs on no host of this node\n">>);
	[] ->
	    ?INFO_MSG("mod_unread_metrics: ~ts may read no host's metrics "
		      "(mod_unread option metrics_access)", [misc:ip_to_list(IP)]),
	    text(403, <<"Forbidden: this address may read no host's metrics; "
			"see mod_unread's option metrics_access\n">>);
	Hosts ->
	    try iolist_to_binary(render(Hosts)) of
		Body -> {200, [{<<"Content-Type">>, ?CONTENT_TYPE}], Body}
	    catch C:R:St ->
		    ?ERROR_MSG("mod_unread_metrics: ~p:~p at ~p", [C, R, St]),
		    text(500, <<"Internal error; see ejabberd.log\n">>)
	    end
    end;
process([], _Request) ->
    {405, [{<<"Allow">>, <<"GET, HEAD">>}, {<<"Content-Type">>, <<"text/plain">>}],
     <<"Method not allowed: use GET\n">>};
process(_LocalPath, _Request) ->
    text(404, <<"Not found\n">>).

text(Code, Body) ->
    {Code, [{<<"Content-Type">>, <<"text/plain">>}], Body}.

allowed(Host, IP) ->
    try gen_mod:get_module_opt(Host, mod_unread, metrics_access) of
	Access -> acl:match_rule(Host, Access, IP) == allow
    catch _:_ -> false
    end.

%% The exposition text for [{Host, indexed | refused}].
-spec render([{binary(), indexed | refused}]) -> iodata().
render(Hosts) ->
    Now = erlang:system_time(microsecond),
    Rows = [{H, row(H, Kind)} || {H, Kind} <- Hosts],
    %% Numbers only for hosts whose index can answer; every host has a state.
    Known = [{H, M} || {H, #{state := St} = M} <- Rows, St /= rebuilding, St /= refused],
    [family(<<"ejabberd_unread_index_state">>, gauge,
	    <<"State of the host's unread index: 1 for the current state, 0 for the others "
	      "(stale: the store cannot be read and the index answers from what it last knew; "
	      "refused: mod_unread cannot index this host's store).">>,
	    [{[{host, H}, {state, atom_to_binary(S)}], bool(state_name(St) == S)}
	     || {H, #{state := St}} <- Rows, S <- ?STATES]),
     family(<<"ejabberd_unread_messages">>, gauge,
	    <<"Unread (offline) messages in the index.">>,
	    [{[{host, H}], Ms} || {H, #{messages := Ms}} <- Known]),
     family(<<"ejabberd_unread_users">>, gauge,
	    <<"Users with at least one unread message.">>,
	    [{[{host, H}], Us} || {H, #{users := Us}} <- Known]),
     family(<<"ejabberd_unread_oldest_message_age_seconds">>, gauge,
	    <<"Age of the oldest unread message (0 when there is none).">>,
	    [{[{host, H}], age(O, Now)} || {H, #{oldest := O}} <- Known]),
     family(<<"ejabberd_unread_oldest_message_timestamp_seconds">>, gauge,
	    <<"When the oldest unread message was stored, Unix time (absent when there is "
	      "none).">>,
	    [{[{host, H}], Id / 1.0e6} || {H, #{oldest := {Id, _}}} <- Known]),
     histogram(Known),
     family(<<"ejabberd_unread_users_near_limit">>, gauge,
	    <<"Users with at least health_near_limit of their max_user_offline_messages "
	      "limit, but below it.">>,
	    [{[{host, H}], count(near_limit, L)} || {H, #{limited := L}} <- Known]),
     family(<<"ejabberd_unread_users_at_limit">>, gauge,
	    <<"Users at their max_user_offline_messages limit: mod_offline refuses their new "
	      "messages.">>,
	    [{[{host, H}], count(at_limit, L)} || {H, #{limited := L}} <- Known]),
     family(<<"ejabberd_unread_health_near_limit_ratio">>, gauge,
	    <<"The fraction of the limit from which a user counts as near it (mod_unread "
	      "option health_near_limit).">>,
	    [{[{host, H}], F} || {H, #{near_fraction := F}} <- Known])].

row(Host, refused) ->
    #{state => refused, host => Host};
row(Host, indexed) ->
    try mod_unread_health:host(Host)
    catch
	%% Stopped between listing and asking: show it as not ready.
	C:R -> ?WARNING_MSG("mod_unread_metrics: health of ~ts failed: ~p:~p", [Host, C, R]),
	       #{state => rebuilding, host => Host}
    end.

state_name({stale, _}) -> stale;
state_name(St) -> St.

bool(true) -> 1;
bool(false) -> 0.

age(none, _Now) -> 0;
age({Id, _}, Now) -> max(0, Now - Id) / 1.0e6.

count(Kind, Limited) ->
    length([x || {_, _, _, K} <- Limited, K == Kind]).

histogram(Known) ->
    Name = <<"ejabberd_unread_queue_length">>,
    [header(Name, histogram, <<"Unread messages per user with unread messages ("
			       "_sum: all unread messages).">>),
     [[[sample(<<Name/binary, "_bucket">>, [{host, H}, {le, integer_to_binary(Le)}], N)
	|| {Le, N} <- Buckets],
       sample(<<Name/binary, "_bucket">>, [{host, H}, {le, <<"+Inf">>}], Us),
       sample(<<Name/binary, "_sum">>, [{host, H}], Ms),
       sample(<<Name/binary, "_count">>, [{host, H}], Us)]
      || {H, #{buckets := Buckets, users := Us, messages := Ms}} <- Known]].

family(Name, Type, Help, Samples) ->
    [header(Name, Type, Help), [sample(Name, Labels, V) || {Labels, V} <- Samples]].

header(Name, Type, Help) ->
    ["# HELP ", Name, " ", escape_help(Help), "\n# TYPE ", Name, " ", atom_to_list(Type), "\n"].

sample(Name, Labels, Value) ->
    [Name, "{", lists:join(",", [[atom_to_list(K), "=\"", escape_label(V), "\""]
				 || {K, V} <- Labels]), "} ", value(Value), "\n"].

value(N) when is_integer(N) -> integer_to_list(N);
value(F) when is_float(F) -> float_to_list(F, [short]).

%% The text format's escapes: \\ and \n in HELP, also \" in label values.
escape_help(S) -> escape(S, [{<<"\\">>, <<"\\\\">>}, {<<"\n">>, <<"\\n">>}]).
escape_label(S) ->
    escape(S, [{<<"\\">>, <<"\\\\">>}, {<<"\n">>, <<"\\n">>}, {<<"\"">>, <<"\\\"">>}]).

escape(S, Pairs) ->
    lists:foldl(fun({From, To}, Acc) -> binary:replace(Acc, From, To, [global]) end,
		iolist_to_binary(S), Pairs).
