%%%----------------------------------------------------------------------
%%% File    : mod_unread.erl
%%% Purpose : Unread (offline) message index for ejabberd, backed by a NIF.
%%%
%%% mod_offline's store stays the source of truth; this module keeps an
%%% in-memory index of it per virtual host (see mod_unread_server) and
%%% exposes it as ejabberd commands (see mod_unread_commands), so every
%%% answer is available from ejabberdctl and from mod_http_api.
%%%
%%% How the index learns what the store holds depends on mod_offline's
%%% db_type, so that part is a behaviour declared here and implemented once
%%% per db_type by mod_unread_<db_type>, the way mod_offline_mnesia and
%%% mod_offline_sql implement mod_offline. A db_type without such a module
%%% is refused, as is a store the index cannot follow exactly.
%%%----------------------------------------------------------------------
-module(mod_unread).

-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_opt_type/1,
	 mod_options/1, mod_doc/0]).
-export([default_host/0, loaded_hosts/0, refused_hosts/0, refusal/1,
	 refusal_state/1, backend/1, backend_for/1, backend_name/2,
	 refused_backend_name/1, store_name/2]).

-include("logger.hrl").
-include("translate.hrl").
-include("xmpp.hrl").
-include("mod_offline.hrl").

%% A change of the store, as the index applies it.
-type op() :: {insert, #offline_msg{}} | {delete_object, #offline_msg{}} |
	      {delete_user, binary()} | clear.
-type refusal() :: {no_backend, atom()} | use_mam_for_storage |
		   {backend, iodata()}.
%% Whether the backend can read its store's changes now; while it cannot,
%% the index keeps its last state.
-type store_status() :: ok | {unreachable, Since :: integer()}.
-export_type([op/0, refusal/0, store_status/0]).

%%%===================================================================
%%% Backend behaviour
%%%===================================================================
%% Makes the calling process (the host's mod_unread_server) receive a
%% message for every change of Host's store from now on, whatever code path
%% made the change: hooks miss most deletions (XEP-0013, delete_old_messages,
%% delete_expired_messages, WebAdmin).
-callback subscribe(Host :: binary()) -> ok | {error, term()}.

%% Undoes subscribe/1 for the calling process.
-callback unsubscribe(Host :: binary()) -> ok.

%% What a message received by the subscribed process means for the index
%% of Host: an op(), ignore for the backend's messages that change nothing
%% there (another host's records, another table), unknown for messages that
%% are not the backend's at all; rebuild when the backend lost track of
%% changes (the index is then read again from the store), and
%% {store_status, _} when its store stops or starts answering.
-callback classify(Msg :: term(), Host :: binary()) ->
    op() | rebuild | {store_status, store_status()} | ignore | unknown.

%% Whether the backend can index Host's store, checked (and prepared: a
%% backend may create what it needs) before the host's index starts; the
%% error says what is wrong and what to do.
-callback check(Host :: binary()) -> ok | {error, iodata()}.

-optional_callbacks([check/1, load/4]).

%% Calls Fun on every stored record of Host, at most ChunkSize records at a
%% time; returns how many records there were. Runs in a worker process
%% while the subscribed process keeps receiving changes.
-callback fold(Host :: binary(), ChunkSize :: pos_integer(),
	       Fun :: fun(([#offline_msg{}]) -> any())) ->
    {ok, non_neg_integer()} | {error, term()}.

%% Fills Index (an unread_nif:index()) with every stored record of Host
%% itself, ChunkSize records at a time, as fold/3 with
%% unread_nif:insert_many/3 would: for a store whose records are not Erlang
%% terms, so that none need be built. Used instead of fold/3 when exported.
-callback load(Host :: binary(), ChunkSize :: pos_integer(), Index :: reference(),
	       PreviewChars :: non_neg_integer()) ->
    {ok, non_neg_integer()} | {error, term()}.

%% Every stored record of one user.
-callback read_user(LUser :: binary(), LServer :: binary()) -> [#offline_msg{}].

%%%===================================================================
%%% gen_mod callbacks
%%%===================================================================
%% A store the index cannot follow is refused without failing the start:
%% at boot a module start error halts the whole node, and the refusal stays
%% visible in unread_stats (and so in `chatadm status`).
start(Host, Opts) ->
    case check_store(Host) of
	{ok, _Backend} ->
	    case gen_mod:start_child(mod_unread_server, Host, Opts) of
		{ok, _} ->
		    register_commands(),
		    %% Once started, not before: a command served while this
		    %% host was starting may have cached a default from the
		    %% hosts loaded before it.
		    forget_default_host();
		{error, _} = Err ->
		    Err
	    end;
	{refused, Why} ->
	    ?ERROR_MSG("mod_unread will not index virtual host ~ts: ~ts",
		       [Host, refusal_advice(Why)]),
	    persistent_term:put({?MODULE, refused, Host}, Why),
	    register_commands(),
	    forget_default_host()
    end.

register_commands() ->
    ejabberd_commands:register_commands(
      ?MODULE, mod_unread_commands:get_commands_spec()).

stop(Host) ->
    forget_default_host(),
    _ = persistent_term:erase({?MODULE, refused, Host}),
    case gen_mod:is_loaded_elsewhere(Host, ?MODULE) of
	false ->
	    ejabberd_commands:unregister_commands(
	      mod_unread_commands:get_commands_spec());
	true ->
	    ok
    end,
    %% A refused host has no server: stopping it is then a no-op.
    gen_mod:stop_child(mod_unread_server, Host).

reload(Host, NewOpts, _OldOpts) ->
    forget_default_host(),
    case refusal(Host) of
	undefined ->
	    mod_unread_server:set_preview_length(
	      Host, gen_mod:get_opt(preview_length, NewOpts));
	_ ->
	    ok
    end.

depends(_Host, _Opts) ->
    [{mod_offline, hard}].

mod_opt_type(preview_length) ->
    econf:non_neg_int();
mod_opt_type(default_host) ->
    econf:either(undefined, econf:domain());
mod_opt_type(health_near_limit) ->
    econf:and_then(
      econf:number(0),
      fun(F) when F > 0, F =< 1 -> float(F);
	 (F) -> econf:fail({invalid_syntax,
			    io_lib:format("~p is not a fraction above 0 and at most 1", [F])})
      end);
mod_opt_type(metrics_access) ->
    econf:acl().

mod_options(_Host) ->
    [{preview_length, 64},
     {default_host, undefined},
     {health_near_limit, 0.9},
     %% Secure by default: the metrics name users, so only this machine may
     %% read them unless the operator says otherwise.
     {metrics_access, [{allow, [{ip, {{127, 0, 0, 0}, 8}}]},
		       {allow, [{ip, {{0, 0, 0, 0, 0, 0, 0, 1}, 128}}]}]}].

mod_doc() ->
    #{desc =>
	  [?T("This module keeps an index of every user's unread (offline) "
	      "messages, as stored by 'mod_offline', in a native (C++) data "
	      "structure, so that counts are constant-time, and per-sender "
	      "counts, newest-first listings and the users with most unread "
	      "messages are answered without reading the store."), "",
	   ?T("The index follows mod_offline's store itself (mnesia's table "
	      "events; on SQL a change log the database's own triggers "
	      "write), so it stays exact on every path that changes it, "
	      "including those that run no hook (XEP-0013 purge, "
	      "'delete_old_messages', 'delete_expired_messages', WebAdmin, "
	      "other nodes and, on SQL, a DBA's statements). It needs "
	      "'mod_offline' with 'db_type: mnesia' or 'db_type: sql' "
	      "(MySQL/MariaDB or PostgreSQL with 'new_sql_schema: true') and "
	      "'use_mam_for_storage: false'; on a host where that is not so "
	      "it logs an error, indexes nothing, and 'unread_stats' shows "
	      "the reason."), "",
	   ?T("Commands: 'unread_count', 'unread_list', 'unread_senders', "
	      "'unread_top', 'unread_stats', 'unread_cluster', "
	      "'unread_resync', 'unread_resync_user', 'unread_health', "
	      "'unread_health_users'. The same backlog health is served in "
	      "Prometheus' text format by the request handler "
	      "'mod_unread_metrics' (see 'metrics_access').")],
      opts =>
	  [{preview_length,
	    #{value => ?T("Number"),
	      desc =>
		  ?T("How many characters of each message body the index "
		     "keeps as a preview. Changing it rebuilds the index. "
		     "The default value is '64'.")}},
	   {default_host,
	    #{value => ?T("Host"),
	      desc =>
		  ?T("The virtual host of user names given without a domain "
		     "('alice' instead of 'alice@example.com'). The default is "
		     "the first virtual host where the module runs.")}},
	   {health_near_limit,
	    #{value => ?T("Fraction"),
	      desc =>
		  ?T("A user is near its offline message limit (what "
		     "'mod_offline''s 'access_max_user_messages' rule gives "
		     "for that user) when its unread messages are at least "
		     "this fraction of it, and at its limit from the limit on "
		     "(mod_offline then refuses to store more). A number "
		     "above 0, at most 1. An unlimited user is never near. "
		     "The default value is '0.9'.")}},
	   {metrics_access,
	    #{value => ?T("AccessName"),
	      desc =>
		  ?T("Who may read this host's metrics from the request "
		     "handler 'mod_unread_metrics' (matched on the client's "
		     "address, as 'ip' ACLs match it). A client allowed for no "
		     "host gets HTTP 403. The metrics name no user, but tell "
		     "how much mail waits, so the default allows only "
		     "loopback addresses (127.0.0.0/8 and ::1).")}}],
      example =>
	  ["modules:",
	   "  mod_offline: {}",
	   "  mod_unread:",
	   "    preview_length: 80",
	   "    health_near_limit: 0.8",
	   "    metrics_access: prometheus"]}.

%%%===================================================================
%%% Backend and store checks
%%%===================================================================
%% The backend module that follows Host's mod_offline store.
-spec backend(binary()) -> {ok, module()} | {error, refusal()}.
backend(Host) ->
    backend_for(gen_mod:get_module_opt(Host, mod_offline, db_type)).

%% mod_unread_<DbType>, if such a module exists.
-spec backend_for(atom()) -> {ok, module()} | {error, refusal()}.
backend_for(DbType) when is_atom(DbType) ->
    %% Named as gen_mod:db_mod/2 would name it, but made here: db_mod/2 uses
    %% list_to_existing_atom/1, and at boot, before the backend module is
    %% loaded, its name is not an atom yet. db_type values come from the
    %% configuration's small set, so making the atom is safe.
    Mod = list_to_atom("mod_unread_" ++ atom_to_list(DbType)),
    case code:ensure_loaded(Mod) of
	{module, Mod} -> {ok, Mod};
	{error, _} -> {error, {no_backend, DbType}}
    end.

%% The store behind Host's index as unread_stats shows it, from the backend
%% module that follows it (mod_unread_<db_type>).
-spec backend_name(binary(), module()) -> binary().
backend_name(Host, Backend) ->
    "mod_unread_" ++ DbType = atom_to_list(Backend),
    db_type_name(Host, list_to_existing_atom(DbType)).

%% The store mod_offline uses on a refused Host: the db_type the host was
%% refused for; <<>> if Host is not refused.
-spec refused_backend_name(binary()) -> binary().
refused_backend_name(Host) ->
    case refusal(Host) of
	{no_backend, DbType} ->
	    db_type_name(Host, DbType);
	use_mam_for_storage ->
	    db_type_name(Host, gen_mod:get_module_opt(Host, mod_offline, db_type));
	undefined ->
	    <<>>
    end.

db_type_name(Host, sql) ->
    store_name(sql, try ejabberd_option:sql_type(Host) catch _:_ -> undefined end);
db_type_name(_Host, DbType) ->
    store_name(DbType, undefined).

%% A db_type as unread_stats shows it: sql names its driver (sql/mysql,
%% sql/pgsql, ...), as set by sql_type.
-spec store_name(atom(), atom()) -> binary().
store_name(sql, SqlType) when SqlType /= undefined ->
    <<"sql/", (atom_to_binary(SqlType))/binary>>;
store_name(DbType, _) ->
    atom_to_binary(DbType).

check_store(Host) ->
    case backend(Host) of
	{error, Why} ->
	    {refused, Why};
	{ok, Backend} ->
	    case gen_mod:get_module_opt(Host, mod_offline, use_mam_for_storage) of
		%% mod_offline then stores only the first message of a burst
		%% and counts the rest in its cache: the store undercounts.
		true -> {refused, use_mam_for_storage};
		false -> check_backend(Backend, Host)
	    end
    end.

check_backend(Backend, Host) ->
    case erlang:function_exported(Backend, check, 1) andalso Backend:check(Host) of
	false -> {ok, Backend};
	ok -> {ok, Backend};
	{error, Why} -> {refused, {backend, Why}}
    end.

%% Why mod_unread does not index Host although it is configured there, or
%% undefined.
-spec refusal(binary()) -> refusal() | undefined.
refusal(Host) ->
    persistent_term:get({?MODULE, refused, Host}, undefined).

%% Hosts of this node where mod_unread is configured but indexes nothing,
%% with the reason as unread_stats shows it.
-spec refused_hosts() -> [{binary(), binary()}].
refused_hosts() ->
    [{H, refusal_state(Why)}
     || H <- ejabberd_option:hosts(), gen_mod:is_loaded(H, ?MODULE),
	Why <- [refusal(H)], Why /= undefined].

%% A refusal as unread_stats shows it in the state column.
-spec refusal_state(refusal()) -> binary().
refusal_state({no_backend, DbType}) ->
    iolist_to_binary(io_lib:format("refused: no mod_unread backend for "
				   "mod_offline db_type ~ts", [DbType]));
refusal_state(use_mam_for_storage) ->
    <<"refused: mod_offline use_mam_for_storage is true">>;
refusal_state({backend, Why}) ->
    iolist_to_binary(["refused: ", Why]).

refusal_advice({no_backend, DbType}) ->
    io_lib:format("there is no backend for mod_offline's db_type: ~ts "
		  "(no module mod_unread_~ts); use db_type: mnesia or sql for "
		  "mod_offline, or remove mod_unread from this host",
		  [DbType, DbType]);
refusal_advice(use_mam_for_storage) ->
    "mod_offline has use_mam_for_storage: true, with which it stores only "
    "the first message of a burst in its table and the index would "
    "undercount; set use_mam_for_storage: false in mod_offline's options, "
    "or remove mod_unread from this host";
refusal_advice({backend, Why}) ->
    Why.

%%%===================================================================
%%% Default host
%%%===================================================================
%% Hosts of this node where mod_unread indexes the store, in configuration
%% order.
-spec loaded_hosts() -> [binary()].
loaded_hosts() ->
    [H || H <- ejabberd_option:hosts(), gen_mod:is_loaded(H, ?MODULE),
	  refusal(H) == undefined].

%% Asked on every command with a bare user name, so it is kept in a
%% persistent_term, forgotten whenever the module starts, stops or reloads.
-spec default_host() -> binary() | undefined.
default_host() ->
    case persistent_term:get({?MODULE, default_host}, undefined) of
	undefined ->
	    case find_default_host() of
		undefined -> undefined;
		Host -> persistent_term:put({?MODULE, default_host}, Host), Host
	    end;
	Host ->
	    Host
    end.

forget_default_host() ->
    _ = persistent_term:erase({?MODULE, default_host}),
    ok.

find_default_host() ->
    case loaded_hosts() of
	[First | _] ->
	    case gen_mod:get_module_opt(First, ?MODULE, default_host) of
		undefined -> First;
		Host -> Host
	    end;
	[] ->
	    undefined
    end.
