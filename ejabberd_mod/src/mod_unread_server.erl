%%%----------------------------------------------------------------------
%%% File    : mod_unread_server.erl
%%% Purpose : Owns one virtual host's unread index and keeps it equal to
%%%           mod_offline's store.
%%%
%%% Order of work: subscribe to the store's change events, then read the
%%% whole store into a fresh index (in a worker, so events keep flowing),
%%% then replay the events that arrived meanwhile. Replaying is safe because
%%% every event is idempotent on exact records: re-applying a prefix of the
%%% event stream to a state that already reflects it changes nothing.
%%%
%%% Readers (mod_unread_commands) find the index through persistent_term
%%% and call the NIF directly; they never wait on this process unless it
%%% has events queued that they must see first (see sync/1).
%%%----------------------------------------------------------------------
-module(mod_unread_server).

-behaviour(gen_server).

-export([start_link/2, lookup/1, is_indexed_host/1, sync/1, resync/1, resync_user/2, info/1,
	 set_preview_length/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2,
	 code_change/3]).

-include("logger.hrl").

-define(CHUNK, 1000).
-define(RETRY_AFTER, timer:seconds(5)).

-record(rebuild, {worker :: pid(),
		  kind :: start | resync,
		  started :: integer(),
		  events = [] :: [mod_unread:op()],
		  waiters = [] :: [gen_server:from()]}).

-record(state, {host :: binary(),
		backend :: module(),
		index :: unread_nif:index(),
		ready = false :: boolean(),
		preview :: non_neg_integer(),
		rebuild :: #rebuild{} | undefined,
		last_rebuild :: integer() | undefined,
		rebuild_ms :: non_neg_integer() | undefined,
		%% A rebuild was asked for while one ran: run another after it.
		rebuild_again = false :: boolean(),
		%% What the backend last said of its store.
		store_status = ok :: mod_unread:store_status()}).

%%%===================================================================
%%% API
%%%===================================================================
start_link(Host, Opts) ->
    gen_server:start_link({local, proc(Host)}, ?MODULE, [Host, Opts], []).

%% {ok, Index} when the index of Host can answer, rebuilding while it is
%% being built, disabled when mod_unread does not run for Host.
-spec lookup(binary()) -> {ok, unread_nif:index()} | rebuilding | disabled.
lookup(Host) ->
    case persistent_term:get({?MODULE, Host}, undefined) of
	{Pid, Index, true} -> sync(Pid), {ok, Index};
	{_, _, false} -> rebuilding;
	undefined -> disabled
    end.

-spec is_indexed_host(binary()) -> boolean().
is_indexed_host(Host) ->
    persistent_term:get({?MODULE, Host}, undefined) /= undefined.

%% Makes sure the events already sent to the server are applied. The server
%% idles with an empty mailbox nearly always, and then nothing is waited for.
-spec sync(pid()) -> ok.
sync(Pid) ->
    case erlang:process_info(Pid, [message_queue_len, status]) of
	[{message_queue_len, 0}, {status, waiting}] -> ok;
	undefined -> ok;
	_ -> gen_server:call(Pid, sync, timer:seconds(30))
    end.

%% Re-reads the whole store and returns the users that differed.
-spec resync(binary()) -> {ok, [unread_nif:user_diff()]} | {error, term()}.
resync(Host) ->
    gen_server:call(proc(Host), resync, infinity).

-spec resync_user(binary(), binary()) -> unread_nif:user_diff() | {error, term()}.
resync_user(Host, LUser) ->
    gen_server:call(proc(Host), {resync_user, LUser}, timer:minutes(1)).

-spec info(binary()) -> map().
info(Host) ->
    gen_server:call(proc(Host), info, timer:seconds(30)).

%% A new preview length changes every stored header: rebuild.
set_preview_length(Host, Chars) ->
    gen_server:cast(proc(Host), {preview, Chars}).

proc(Host) ->
    gen_mod:get_module_proc(Host, ?MODULE).

%%%===================================================================
%%% gen_server callbacks
%%%===================================================================
init([Host, Opts]) ->
    process_flag(trap_exit, true),
    %% mod_unread:start/2 checked that there is one.
    {ok, Backend} = mod_unread:backend(Host),
    case Backend:subscribe(Host) of
	ok ->
	    State = #state{host = Host, backend = Backend, index = unread_nif:new(),
			   preview = gen_mod:get_opt(preview_length, Opts)},
	    publish(State),
	    {ok, start_rebuild(start, State)};
	{error, Reason} ->
	    ?ERROR_MSG("mod_unread for ~ts cannot follow mod_offline's store "
		       "(~ts): ~p. Is mod_offline running on this node?",
		       [Host, Backend, Reason]),
	    {stop, {cannot_subscribe, Reason}}
    end.

handle_call(sync, _From, State) ->
    {reply, ok, State};
handle_call(resync, From, #state{rebuild = undefined} = State) ->
    State1 = start_rebuild(resync, State),
    {noreply, add_waiter(From, State1)};
handle_call(resync, From, State) ->
    {noreply, add_waiter(From, State)};
handle_call({resync_user, LUser}, _From,
	    #state{host = Host, backend = Backend, index = Index,
		   preview = Preview} = State) ->
    try Backend:read_user(LUser, Host) of
	Records ->
	    {reply, unread_nif:replace_user(Index, Host, LUser, Records, Preview), State}
    catch
	%% A store that cannot be read now leaves the index as it is.
	error:{store_unreachable, Why} -> {reply, {error, Why}, State}
    end;
handle_call(info, _From, #state{index = Index, backend = Backend} = State) ->
    {Total, Users, Bytes} = unread_nif:stats(Index),
    Info = #{state => case State#state.ready of
			  true -> ready;
			  false -> rebuilding
		      end,
	     total => Total, users => Users, memory => Bytes,
	     last_rebuild => State#state.last_rebuild,
	     rebuild_ms => State#state.rebuild_ms,
	     store_status => State#state.store_status,
	     backend => Backend},
    {reply, Info, State};
handle_call(Request, _From, State) ->
    ?WARNING_MSG("Unexpected call: ~p", [Request]),
    {noreply, State}.

handle_cast({preview, Chars}, #state{preview = Chars} = State) ->
    {noreply, State};
handle_cast({preview, Chars}, #state{rebuild = undefined} = State) ->
    {noreply, start_rebuild(resync, State#state{preview = Chars})};
handle_cast({preview, Chars}, State) ->
    %% The running rebuild uses the old length; the next one picks this up.
    {noreply, State#state{preview = Chars}};
handle_cast(Msg, State) ->
    ?WARNING_MSG("Unexpected cast: ~p", [Msg]),
    {noreply, State}.

handle_info({rebuilt, Worker, NewIndex, Count},
	    #state{rebuild = #rebuild{worker = Worker} = R} = State) ->
    {noreply, finish_rebuild(NewIndex, Count, R, State)};
handle_info({'EXIT', Worker, Reason},
	    #state{rebuild = #rebuild{worker = Worker} = R, host = Host} = State)
  when Reason /= normal ->
    ?ERROR_MSG("mod_unread: reading the offline store of ~ts failed: ~p; "
	       "retrying in ~B s", [Host, Reason, ?RETRY_AFTER div 1000]),
    [gen_server:reply(W, {error, Reason}) || W <- R#rebuild.waiters],
    erlang:send_after(?RETRY_AFTER, self(), {retry, R#rebuild.kind}),
    {noreply, State#state{rebuild = undefined}};
handle_info({retry, Kind}, #state{rebuild = undefined} = State) ->
    {noreply, start_rebuild(Kind, State)};
handle_info({'EXIT', _Pid, normal}, State) ->
    {noreply, State};
handle_info({'EXIT', _Pid, Reason}, State) ->
    {stop, Reason, State};
%% Anything else is a change of the store, or not the backend's at all.
handle_info(Info, #state{host = Host, backend = Backend} = State) ->
    case Backend:classify(Info, Host) of
	ignore ->
	    {noreply, State};
	unknown ->
	    ?DEBUG("Unexpected info: ~p", [Info]),
	    {noreply, State};
	rebuild ->
	    {noreply, request_rebuild(State)};
	{store_status, Status} ->
	    {noreply, State#state{store_status = Status}};
	Op ->
	    {noreply, apply_op(Op, State)}
    end.

terminate(_Reason, #state{host = Host, backend = Backend, rebuild = R}) ->
    Backend:unsubscribe(Host),
    case R of
	#rebuild{worker = W} -> exit(W, kill);
	undefined -> ok
    end,
    %% Dropping the last reference frees the NIF's memory.
    persistent_term:erase({?MODULE, Host}),
    ok.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.

%%%===================================================================
%%% Internal functions
%%%===================================================================
publish(#state{host = Host, index = Index, ready = Ready}) ->
    persistent_term:put({?MODULE, Host}, {self(), Index, Ready}).

apply_op(Op, #state{index = Index, preview = Preview, rebuild = R} = State) ->
    apply_op(Op, Index, Preview),
    case R of
	undefined -> State;
	#rebuild{events = Evs} -> State#state{rebuild = R#rebuild{events = [Op | Evs]}}
    end.

apply_op({insert, Rec}, Index, Preview) -> unread_nif:insert(Index, Rec, Preview);
apply_op({delete_object, Rec}, Index, _) -> unread_nif:delete_object(Index, Rec);
apply_op({delete_user, LUser}, Index, _) -> unread_nif:delete_user(Index, LUser);
apply_op(clear, Index, _) -> unread_nif:clear(Index);
%% The SQL backend's: spool rows as they are, scanned in the NIF.
apply_op({insert_rows, Host, Rows}, Index, Preview) ->
    mod_unread_sql:index_rows(Index, Host, Rows, Preview).

start_rebuild(Kind, #state{host = Host, backend = Backend, preview = Preview} = State) ->
    Self = self(),
    Worker = spawn_link(
	       fun() ->
		       Index = unread_nif:new(),
		       Read = case erlang:function_exported(Backend, load, 4) of
				  true ->
				      Backend:load(Host, ?CHUNK, Index, Preview);
				  false ->
				      Load = fun(Recs) ->
						     unread_nif:insert_many(Index, Recs, Preview)
					     end,
				      Backend:fold(Host, ?CHUNK, Load)
			      end,
		       case Read of
			   {ok, N} -> Self ! {rebuilt, self(), Index, N};
			   {error, Reason} -> exit(Reason)
		       end
	       end),
    State#state{rebuild = #rebuild{worker = Worker, kind = Kind,
				   started = erlang:monotonic_time(millisecond)}}.

%% The backend lost track of its store's changes: only a full read knows.
request_rebuild(#state{rebuild = undefined} = State) ->
    start_rebuild(resync, State);
request_rebuild(State) ->
    State#state{rebuild_again = true}.

add_waiter(From, #state{rebuild = R} = State) ->
    State#state{rebuild = R#rebuild{waiters = [From | R#rebuild.waiters]}}.

finish_rebuild(NewIndex, Count, #rebuild{kind = Kind, started = Started,
					 events = Events, waiters = Waiters},
	       #state{host = Host, index = Old, preview = Preview} = State) ->
    [apply_op(Op, NewIndex, Preview) || Op <- lists:reverse(Events)],
    Ms = erlang:monotonic_time(millisecond) - Started,
    Diff = case Kind of
	       start -> [];
	       resync -> unread_nif:diff(Old, NewIndex)
	   end,
    [gen_server:reply(W, {ok, Diff}) || W <- Waiters],
    ?INFO_MSG("mod_unread: indexed ~B offline messages of ~ts in ~B ms~ts",
	      [Count, Host, Ms,
	       case Kind of
		   start -> "";
		   resync -> io_lib:format("; ~B users differed", [length(Diff)])
	       end]),
    State1 = State#state{index = NewIndex, ready = true, rebuild = undefined,
			 last_rebuild = erlang:system_time(second),
			 rebuild_ms = Ms, rebuild_again = false},
    publish(State1),
    case State#state.rebuild_again of
	true -> start_rebuild(resync, State1);
	false -> State1
    end.
