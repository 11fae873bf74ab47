%%%----------------------------------------------------------------------
%%% File    : mod_unread.erl
%%% Purpose : Unread (offline) message index for ejabberd, backed by a NIF.
%%%
%%% mod_offline's store stays the source of truth; this module keeps an
%%% in-memory index of it per virtual host (see mod_unread_server) and
%%% exposes it as ejabberd commands (see mod_unread_commands), so every
%%% answer is available from ejabberdctl and from mod_http_api.
%%%----------------------------------------------------------------------
-module(mod_unread).

-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_opt_type/1,
	 mod_options/1, mod_doc/0]).
-export([default_host/0, loaded_hosts/0]).

-include("logger.hrl").
-include("translate.hrl").

start(Host, Opts) ->
    case gen_mod:get_module_opt(Host, mod_offline, db_type) of
	mnesia ->
	    case gen_mod:start_child(mod_unread_server, Host, Opts) of
		{ok, _} ->
		    ejabberd_commands:register_commands(
		      ?MODULE, mod_unread_commands:get_commands_spec()),
		    %% Once started, not before: a command served while this
		    %% host was starting may have cached a default from the
		    %% hosts loaded before it.
		    forget_default_host();
		{error, _} = Err ->
		    Err
	    end;
	Other ->
	    ?ERROR_MSG("mod_unread for ~ts needs mod_offline with db_type: "
		       "mnesia (found ~p)", [Host, Other]),
	    {error, {unsupported_db_type, Other}}
    end.

stop(Host) ->
    forget_default_host(),
    case gen_mod:is_loaded_elsewhere(Host, ?MODULE) of
	false ->
	    ejabberd_commands:unregister_commands(
	      mod_unread_commands:get_commands_spec());
	true ->
	    ok
    end,
    gen_mod:stop_child(mod_unread_server, Host).

reload(Host, NewOpts, _OldOpts) ->
    forget_default_host(),
    mod_unread_server:set_preview_length(
      Host, gen_mod:get_opt(preview_length, NewOpts)).

depends(_Host, _Opts) ->
    [{mod_offline, hard}].

mod_opt_type(preview_length) ->
    econf:non_neg_int();
mod_opt_type(default_host) ->
    econf:either(undefined, econf:domain()).

mod_options(_Host) ->
    [{preview_length, 64},
     {default_host, undefined}].

mod_doc() ->
    #{desc =>
	  [?T("This module keeps an index of every user's unread (offline) "
	      "messages, as stored by 'mod_offline', in a native (C++) data "
	      "structure, so that counts are constant-time, and per-sender "
	      "counts, newest-first listings and the users with most unread "
	      "messages are answered without reading the store."), "",
	   ?T("The index follows mod_offline's mnesia table itself, so it "
	      "stays exact on every path that changes it, including those "
	      "that run no hook (XEP-0013 purge, 'delete_old_messages', "
	      "'delete_expired_messages', WebAdmin). It needs 'mod_offline' "
	      "with 'db_type: mnesia'."), "",
	   ?T("Commands: 'unread_count', 'unread_list', 'unread_senders', "
	      "'unread_top', 'unread_stats', 'unread_resync', "
	      "'unread_resync_user'.")],
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
		     "the first virtual host where the module runs.")}}],
      example =>
	  ["modules:",
	   "  mod_offline: {}",
	   "  mod_unread:",
	   "    preview_length: 80"]}.

%% Hosts of this node where mod_unread runs, in configuration order.
-spec loaded_hosts() -> [binary()].
loaded_hosts() ->
    [H || H <- ejabberd_option:hosts(), gen_mod:is_loaded(H, ?MODULE)].

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
