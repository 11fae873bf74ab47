%%%----------------------------------------------------------------------
%%% File    : mod_unread_sql_log.erl
%%% Purpose : Follows the SQL change log of one virtual host's spool and
%%%           sends each change to the host's mod_unread_server.
%%%
%%% Every ?POLL_MS this process reads two things, in this order, and sends
%%% what it read to the host's mod_unread_server in the order it read it:
%%%
%%%  - the change log: the triggers of sql/*.sql append every delete and
%%%    update of spool to mod_unread_log in the change's own transaction;
%%%  - spool itself, by seq, for the rows inserted since it last looked.
%%%    Inserts are not logged: a trigger's row in every insert cost the
%%%    store path about 13% of its throughput (docs/benchmarks.md), and the
%%%    row itself is what the index needs.
%%%
%%% Both are read by keyset (log id, spool seq) with a cursor that remembers
%%% the numbers it skipped, which belong to transactions not committed yet
%%% (mod_unread_sql_cursor). Each read sees the database as it is when the
%%% read starts, later than the read before it, so applying the reads in
%%% their order never re-inserts a deleted row: a row read from spool is
%%% either deleted later (its delete is read later still) or its delete
%%% was committed before the read and the row is not there. Inserting a row
%%% twice changes nothing, so reading from any point, or twice, ends at the
%%% same index.
%%%
%%% Every ?HEARTBEAT_MS it records how far it has read (mod_unread_reader)
%%% and deletes the log rows every live reader has read, so the log holds
%%% about what the slowest node has still to read, and at most ?READER_TTL
%%% of changes when a node is gone. A reader that falls behind what was
%%% pruned (its node cut off from the database longer than that) asks for a
%%% rebuild. While the database does not answer, the index keeps its last
%%% state and the server is told, so unread_stats shows it.
%%%----------------------------------------------------------------------
-module(mod_unread_sql_log).

-behaviour(gen_server).

-export([start_link/2, stop/1, position/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2,
	 code_change/3]).

-include("logger.hrl").
-include("ejabberd_sql_pt.hrl").

-define(POLL_MS, 50).
%% A read that has not answered by then: the database is taken to be away.
%% ejabberd's SQL pool queues queries for a database it lost and answers
%% them only after its own query timeout (60 s by default).
-define(SLOW_MS, 3000).
-define(RETRY_MS, 1000).
-define(HEARTBEAT_MS, 30000).
-define(PAGE, 1000).
%% A log id not visible this long after a later one was is taken to belong
%% to a transaction that rolled back.
-define(GAP_TIMEOUT_S, 60).
%% Readers not heard of this long hold no log rows back.
-define(READER_TTL_S, 3600).

-record(state, {host :: binary(),
		owner :: pid(),
		%% Log ids read.
		cursor :: mod_unread_sql_cursor:cursor() | undefined,
		%% Spool seqs read.
		spool :: mod_unread_sql_cursor:cursor() | undefined,
		%% When (monotonic s) to look once more for rows inserted around
		%% the start, and below which seq: see start_point/1.
		sweep :: {integer(), non_neg_integer()} | undefined,
		down_since :: integer() | undefined,
		last_heartbeat :: integer() | undefined,
		%% The poll running in its own process, so that a database that
		%% does not answer is noticed while the query still waits.
		job :: {pid(), reference()} | undefined,
		slow = false :: boolean()}).

%%%===================================================================
%%% API
%%%===================================================================
start_link(Host, Owner) ->
    gen_server:start_link({local, proc(Host)}, ?MODULE, [Host, Owner], []).

%% {ok, Low, High}: every log id up to Low has been read and its change sent
%% to the owner, and so has every id up to High that is visible (the ids in
%% between not read yet are in transactions not committed yet, or rolled
%% back). not_started before the reader has found where to start.
-spec position(binary()) -> {ok, non_neg_integer(), non_neg_integer()} | not_started.
position(Host) ->
    gen_server:call(proc(Host), position).

stop(Host) ->
    case whereis(proc(Host)) of
	undefined -> ok;
	Pid -> unlink(Pid), exit(Pid, shutdown), ok
    end.

proc(Host) ->
    gen_mod:get_module_proc(Host, ?MODULE).

%%%===================================================================
%%% gen_server callbacks
%%%===================================================================
init([Host, Owner]) ->
    self() ! poll,
    {ok, #state{host = Host, owner = Owner}}.

handle_call(position, _From, #state{cursor = undefined} = State) ->
    {reply, not_started, State};
handle_call(position, _From, #state{cursor = C} = State) ->
    {reply, {ok, mod_unread_sql_cursor:low(C), mod_unread_sql_cursor:hi(C)}, State};
handle_call(_Request, _From, State) ->
    {reply, {error, badarg}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info(poll, #state{job = undefined, owner = Owner} = S) ->
    Server = self(),
    %% The poll sends what it finds to this process, which passes it on:
    %% one sender, so the owner gets the changes in log order.
    Snapshot = S#state{owner = Server},
    Job = spawn_monitor(fun() ->
				{Next, S1} = poll(Snapshot),
				Server ! {polled, self(), Next, S1#state{owner = Owner}}
			end),
    erlang:send_after(?SLOW_MS, self(), {slow, element(2, Job)}),
    {noreply, S#state{job = Job, slow = false}};
handle_info({mod_unread_sql, _, _} = Msg, #state{owner = Owner} = S) ->
    Owner ! Msg,
    {noreply, S};
handle_info({polled, Pid, Next, S1}, #state{job = {Pid, Ref}, slow = Slow} = S) ->
    erlang:demonitor(Ref, [flush]),
    S2 = S1#state{job = undefined, slow = false},
    S3 = case Slow andalso S2#state.down_since == undefined of
	     %% Marked away while this poll waited, and it got through.
	     true -> up(S2#state{down_since = S#state.down_since});
	     false -> S2
	 end,
    erlang:send_after(Next, self(), poll),
    {noreply, S3};
handle_info({slow, Ref}, #state{job = {_, Ref}} = S) ->
    {noreply, (down(no_answer, S))#state{slow = true}};
handle_info({'DOWN', Ref, process, _, Reason}, #state{job = {_, Ref}} = S) ->
    erlang:send_after(?RETRY_MS, self(), poll),
    {noreply, (down(Reason, S))#state{job = undefined}};
handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, _State) ->
    ok.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.

%%%===================================================================
%%% Reading the log
%%%===================================================================
%% Returns the time to wait before the next poll.
poll(#state{cursor = undefined, host = Host} = S) ->
    case start_point(Host) of
	{ok, LogHi, SpoolHi, Sweep} ->
	    Now = erlang:monotonic_time(second),
	    poll(S#state{cursor = mod_unread_sql_cursor:new(LogHi),
			 spool = mod_unread_sql_cursor:new(SpoolHi),
			 sweep = case Sweep of
				     true -> {Now + 2 * ?GAP_TIMEOUT_S, SpoolHi};
				     false -> undefined
				 end});
	{error, Reason} ->
	    {?RETRY_MS, down(Reason, S)}
    end;
poll(#state{host = Host} = S) ->
    case read_log(S) of
	{ok, LogFull, S1} ->
	    case read_spool(S1) of
		{ok, SpoolFull, S2} ->
		    S3 = sweep(S2),
		    S4 = maybe_heartbeat(up(S3)),
		    {case LogFull orelse SpoolFull of true -> 0; false -> ?POLL_MS end, S4};
		{error, Reason} ->
		    {?RETRY_MS, down(Reason, S1)}
	    end;
	{error, Reason} ->
	    ?DEBUG("mod_unread: reading the change log of ~ts failed: ~p", [Host, Reason]),
	    {?RETRY_MS, down(Reason, S)}
    end.

read_log(#state{host = Host, cursor = C, spool = SC} = S) ->
    case read(Host, C) of
	{ok, Rows, Full} ->
	    Now = erlang:monotonic_time(second),
	    {New, C1} = mod_unread_sql_cursor:seen([Id || {Id, _, _, _, _, _} <- Rows], Now, C),
	    IsNew = maps:from_keys(New, true),
	    NewRows = [R || {Id, _, _, _, _, _} = R <- Rows, maps:is_key(Id, IsNew)],
	    send(S, log_ops(Host, NewRows)),
	    {Lost, C2} = mod_unread_sql_cursor:expire(Now, ?GAP_TIMEOUT_S, C1),
	    [?DEBUG("mod_unread: log ids ~B..~B of ~ts never appeared", [F, T, Host])
	     || {F, T} <- Lost],
	    %% A deleted row the spool cursor skipped will never show up
	    %% there: it need not be asked for again.
	    SpoolHi = mod_unread_sql_cursor:hi(SC),
	    {_, SC1} = mod_unread_sql_cursor:seen(
			 [Seq || {_, <<"d">>, _, Seq, _, _} <- NewRows, Seq =< SpoolHi], Now, SC),
	    {ok, Full, S#state{cursor = C2, spool = SC1}};
	{error, _} = Err ->
	    Err
    end.

%% Rows inserted into spool after the spool cursor and in its gaps.
read_spool(#state{host = Host, spool = SC} = S) ->
    Ranges = [{mod_unread_sql_cursor:hi(SC), infinity}
	      | [{F - 1, T} || {F, T} <- mod_unread_sql_cursor:gaps(SC)]],
    case read_ranges(Host, Ranges, []) of
	{ok, [Main | _] = Pages} ->
	    Rows = lists:append(Pages),
	    Now = erlang:monotonic_time(second),
	    {New, SC1} = mod_unread_sql_cursor:seen([Seq || {Seq, _, _, _} <- Rows], Now, SC),
	    IsNew = maps:from_keys(New, true),
	    NewRows = [R || {Seq, _, _, _} = R <- lists:ukeysort(1, Rows), maps:is_key(Seq, IsNew)],
	    send(S, [{insert_rows, Host, NewRows} || NewRows /= []]),
	    {_Lost, SC2} = mod_unread_sql_cursor:expire(Now, ?GAP_TIMEOUT_S, SC1),
	    {ok, length(Main) >= ?PAGE, S#state{spool = SC2}};
	{error, _} = Err ->
	    Err
    end.

read_ranges(_Host, [], Acc) ->
    {ok, lists:reverse(Acc)};
read_ranges(Host, [{After, Last} | Rest], Acc) ->
    case mod_unread_sql:range(Host, After, Last, ?PAGE) of
	{selected, Rows} -> read_ranges(Host, Rest, [Rows | Acc]);
	Err -> {error, Err}
    end.

%% Once, a while after a start that found no mark old enough (the first
%% start on a database): rows inserted at or below the seq it started from
%% whose transactions had not committed when the rebuild read past them.
%% Their transactions have ended by now (two timeouts after the start), and
%% they were created (created_at is the time the transaction or statement
%% began) at most a timeout before the start: within the last three.
sweep(#state{sweep = {At, Last}, host = Host} = S) ->
    case erlang:monotonic_time(second) >= At of
	true ->
	    case sweep_rows(Host, 0, Last, []) of
		{ok, Rows} ->
		    send(S, [{insert_rows, Host, Rows} || Rows /= []]),
		    S#state{sweep = undefined};
		{error, Reason} ->
		    ?DEBUG("mod_unread: sweep of ~ts failed: ~p", [Host, Reason]),
		    S
	    end;
	false ->
	    S
    end;
sweep(S) ->
    S.

sweep_rows(Host, After, Last, Acc) ->
    Secs = 3 * ?GAP_TIMEOUT_S,
    Limit = ?PAGE,
    Q = fun(pgsql, _) ->
		ejabberd_sql:sql_query_t(
		  ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s from spool"
		       " where server_host=%(Host)s and seq > %(After)d and seq <= %(Last)d"
		       " and created_at >= now() - %(Secs)d * interval '1 second'"
		       " order by seq limit %(Limit)d"));
	   (_, _) ->
		ejabberd_sql:sql_query_t(
		  ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s from spool"
		       " where server_host=%(Host)s and seq > %(After)d and seq <= %(Last)d"
		       " and created_at >= now() - interval %(Secs)d second"
		       " order by seq limit %(Limit)d"))
	end,
    case ejabberd_sql:sql_query(Host, Q) of
	{selected, Rows} when length(Rows) >= ?PAGE ->
	    {Seq, _, _, _} = lists:last(Rows),
	    sweep_rows(Host, Seq, Last, [Rows | Acc]);
	{selected, Rows} ->
	    {ok, lists:append(lists:reverse([Rows | Acc]))};
	Err ->
	    {error, Err}
    end.

send(#state{host = Host, owner = Owner}, Ops) ->
    [Owner ! {mod_unread_sql, Host, Op} || Op <- Ops],
    ok.

%% Where a new reader starts, in the log and in spool.
%%
%% In the log: before every log row that can still be in an open
%% transaction, so nothing committed from now on is missed (the rows read
%% twice because of it change nothing), but not before what was pruned:
%% those rows were read by every reader, so they committed before now, and
%% the rebuild that follows reads what they did from spool.
%%
%% In spool: the same bound, from the marks the readers' heartbeats write
%% (the host's highest seq at a time): every row up to a mark older than the
%% gap timeout was allocated before it, so its transaction has ended, and
%% the rebuild that follows reads it. Without such a mark (the first start
%% on this database), the highest seq now, and a sweep later (sweep/1).
start_point(Host) ->
    Cutoff = ?GAP_TIMEOUT_S,
    Q = fun(DbType, _) ->
		{selected, [{Old}]} =
		    ejabberd_sql:sql_query_t(
		      case DbType of
			  pgsql ->
			      ?SQL("select @(coalesce(max(id), 0))d from mod_unread_log"
				   " where server_host=%(Host)s"
				   " and logged_at < now() - %(Cutoff)d * interval '1 second'");
			  _ ->
			      ?SQL("select @(coalesce(max(id), 0))d from mod_unread_log"
				   " where server_host=%(Host)s"
				   " and logged_at < now() - interval %(Cutoff)d second")
		      end),
		{selected, Pruned} =
		    ejabberd_sql:sql_query_t(
		      ?SQL("select @(below_id)d from mod_unread_pruned"
			   " where server_host=%(Host)s")),
		{selected, Marks} =
		    ejabberd_sql:sql_query_t(
		      case DbType of
			  pgsql ->
			      ?SQL("select @(max(seq))d from mod_unread_mark"
				   " where server_host=%(Host)s"
				   " and marked_at < now() - %(Cutoff)d * interval '1 second'"
				   " having count(*) > 0");
			  _ ->
			      ?SQL("select @(max(seq))d from mod_unread_mark"
				   " where server_host=%(Host)s"
				   " and marked_at < now() - interval %(Cutoff)d second"
				   " having count(*) > 0")
		      end),
		Max = max_seq_t(Host),
		LogHi = lists:max([Old | [B - 1 || {B} <- Pruned]]),
		case Marks of
		    [{Mark}] -> {LogHi, min(Mark, Max), false};
		    [] -> {LogHi, Max, true}
		end
	end,
    case ejabberd_sql:sql_query(Host, Q) of
	{LogHi, SpoolHi, Sweep} when is_integer(LogHi) -> {ok, LogHi, SpoolHi, Sweep};
	Err -> {error, Err}
    end.

%% The host's highest spool seq, 0 for none, inside a transaction.
max_seq_t(Host) ->
    {selected, [{Max}]} =
	ejabberd_sql:sql_query_t(
	  ?SQL("select @(coalesce(max(seq), 0))d from spool where server_host=%(Host)s")),
    Max.

%% The log rows after the cursor and in its gaps, in id order; Full when the
%% page after the cursor was full (more are waiting).
read(Host, C) ->
    Hi = mod_unread_sql_cursor:hi(C),
    Main = ejabberd_sql:sql_query(
	     Host,
	     ?SQL("select @(l.id)d, @(l.op)s, @(l.username)s, @(l.seq)d,"
		  " @(coalesce(s.xml, l.xml))s, @(coalesce(s.created_at, l.created_at))s"
		  " from mod_unread_log l left join spool s on l.op = 'i' and s.seq = l.seq"
		  " where l.server_host in (%(Host)s, '') and l.id > %(Hi)d"
		  " order by l.id limit 1000")),
    case Main of
	{selected, Rows} ->
	    read_gaps(Host, mod_unread_sql_cursor:gaps(C), Rows, length(Rows) >= ?PAGE);
	Err ->
	    {error, Err}
    end.

read_gaps(_Host, [], Acc, Full) ->
    {ok, lists:keysort(1, Acc), Full};
read_gaps(Host, [{From, To} | Rest], Acc, Full) ->
    case ejabberd_sql:sql_query(
	   Host,
	   ?SQL("select @(l.id)d, @(l.op)s, @(l.username)s, @(l.seq)d,"
		" @(coalesce(s.xml, l.xml))s, @(coalesce(s.created_at, l.created_at))s"
		" from mod_unread_log l left join spool s on l.op = 'i' and s.seq = l.seq"
		" where l.server_host in (%(Host)s, '') and l.id >= %(From)d"
		" and l.id <= %(To)d order by l.id limit 1000")) of
	{selected, Rows} -> read_gaps(Host, Rest, Rows ++ Acc, Full);
	Err -> {error, Err}
    end.

%% Log rows, in id order, as the ops the index applies, in that order. A
%% delete's record comes from the XML the log kept; the deleted rows are
%% scanned together, and inserts (from updates, and from releases that
%% logged inserts) go as runs of rows, as the rebuild indexes them. An
%% insert whose spool row is gone (its xml reads back as the log's empty
%% one) is left out: its delete follows.
log_ops(Host, Rows) ->
    Deleted = [{Seq, U, X, C} || {_, <<"d">>, U, Seq, X, C} <- Rows],
    log_ops(Host, Rows, mod_unread_sql:row_records(Host, Deleted), [], []).

log_ops(Host, [], [], Run, Acc) ->
    lists:reverse(flush(Host, Run, Acc));
log_ops(Host, [{_, <<"c">>, _, _, _, _} | Rows], Recs, Run, Acc) ->
    log_ops(Host, Rows, Recs, [], [clear | flush(Host, Run, Acc)]);
log_ops(Host, [{_, <<"i">>, _, _, <<>>, _} | Rows], Recs, Run, Acc) ->
    log_ops(Host, Rows, Recs, Run, Acc);
log_ops(Host, [{_, <<"i">>, U, Seq, X, C} | Rows], Recs, Run, Acc) ->
    log_ops(Host, Rows, Recs, [{Seq, U, X, C} | Run], Acc);
log_ops(Host, [{_, <<"d">>, _, _, _, _} | Rows], [Rec | Recs], Run, Acc) ->
    Acc1 = flush(Host, Run, Acc),
    log_ops(Host, Rows, Recs, [], case Rec of
				      {ok, R} -> [{delete_object, R} | Acc1];
				      error -> Acc1
				  end);
log_ops(Host, [_ | Rows], Recs, Run, Acc) ->
    log_ops(Host, Rows, Recs, Run, Acc).

flush(_Host, [], Acc) -> Acc;
flush(Host, Run, Acc) -> [{insert_rows, Host, lists:reverse(Run)} | Acc].

%%%===================================================================
%%% Database state
%%%===================================================================
down(Reason, #state{down_since = undefined, host = Host, owner = Owner} = S) ->
    ?WARNING_MSG("mod_unread: cannot read the change log of ~ts (~p); its "
		 "index keeps its last state until the database answers",
		 [Host, Reason]),
    Since = erlang:system_time(second),
    Owner ! {mod_unread_sql, Host, {store_status, {unreachable, Since}}},
    S#state{down_since = Since};
down(_Reason, S) ->
    S.

up(#state{down_since = undefined} = S) ->
    S;
up(#state{host = Host, owner = Owner} = S) ->
    ?INFO_MSG("mod_unread: the change log of ~ts can be read again", [Host]),
    Owner ! {mod_unread_sql, Host, {store_status, ok}},
    S#state{down_since = undefined}.

%%%===================================================================
%%% Heartbeat: where this reader is, pruning, falling behind
%%%===================================================================
%% The first right away: until a reader is recorded, others may prune rows
%% it has yet to read.
maybe_heartbeat(#state{last_heartbeat = Last} = S) ->
    Now = erlang:monotonic_time(millisecond),
    case Last == undefined orelse Now - Last >= ?HEARTBEAT_MS of
	true -> heartbeat(S#state{last_heartbeat = Now});
	false -> S
    end.

heartbeat(#state{host = Host, cursor = C, owner = Owner} = S) ->
    Node = atom_to_binary(node()),
    Low = mod_unread_sql_cursor:low(C),
    TTL = ?READER_TTL_S,
    Result =
	ejabberd_sql:sql_query(
	  Host,
	  fun(DbType, _) ->
		  record_reader(DbType, Node, Host, Low),
		  Older = case DbType of
			      pgsql -> ?SQL("delete from mod_unread_reader where server_host=%(Host)s"
					    " and seen_at < now() - %(TTL)d * interval '1 second'");
			      _ -> ?SQL("delete from mod_unread_reader where server_host=%(Host)s"
					" and seen_at < now() - interval %(TTL)d second")
			  end,
		  ejabberd_sql:sql_query_t(Older),
		  {selected, [{Min}]} =
		      ejabberd_sql:sql_query_t(
			?SQL("select @(coalesce(min(last_id), 0))d from mod_unread_reader"
			     " where server_host=%(Host)s")),
		  Below = Min + 1,
		  ejabberd_sql:sql_query_t(
		    ?SQL("delete from mod_unread_log where server_host=%(Host)s"
			 " and id < %(Below)d")),
		  record_pruned(DbType, Host, Below),
		  mark(DbType, Host),
		  %% Truncations are logged for every host at once; one
		  %% older than any reader's start point is of no use.
		  ejabberd_sql:sql_query_t(
		    case DbType of
			pgsql -> ?SQL("delete from mod_unread_log where server_host=''"
				      " and logged_at < now() - %(TTL)d * interval '1 second'");
			_ -> ?SQL("delete from mod_unread_log where server_host=''"
				  " and logged_at < now() - interval %(TTL)d second")
		    end),
		  {selected, Pruned} =
		      ejabberd_sql:sql_query_t(
			?SQL("select @(below_id)d from mod_unread_pruned"
			     " where server_host=%(Host)s")),
		  Pruned
	  end),
    case Result of
	[{PrunedBelow}] when Low + 1 < PrunedBelow ->
	    %% Rows this reader had not read were pruned while it could not
	    %% reach the database: only a rebuild knows what they did.
	    ?WARNING_MSG("mod_unread: the change log of ~ts was pruned past this "
			 "node's reader (~B < ~B); rebuilding the index",
			 [Host, Low, PrunedBelow]),
	    Owner ! {mod_unread_sql, Host, rebuild},
	    S#state{cursor = mod_unread_sql_cursor:forget_below(PrunedBelow, C)};
	Rows when is_list(Rows) ->
	    S;
	Err ->
	    ?DEBUG("mod_unread: heartbeat of ~ts failed: ~p", [Host, Err]),
	    S
    end.

record_reader(pgsql, Node, Host, Low) ->
    ejabberd_sql:sql_query_t(
      ?SQL("insert into mod_unread_reader (node, server_host, last_id, seen_at)"
	   " values (%(Node)s, %(Host)s, %(Low)d, now())"
	   " on conflict (node, server_host) do update"
	   " set last_id = excluded.last_id, seen_at = now()"));
record_reader(_, Node, Host, Low) ->
    ejabberd_sql:sql_query_t(
      ?SQL("insert into mod_unread_reader (node, server_host, last_id, seen_at)"
	   " values (%(Node)s, %(Host)s, %(Low)d, now())"
	   " on duplicate key update last_id = values(last_id), seen_at = now()")).

%% The host's highest seq, with a time at which every row up to it had
%% been allocated its seq, for readers that start later (start_point/1);
%% kept as long as readers are. The time is taken after the read of the
%% seq (a plain read: no lock on spool): PostgreSQL's now() would be the
%% transaction's start, so its clock is asked; MariaDB's now() is the
%% statement's, after the read.
mark(DbType, Host) ->
    TTL = ?READER_TTL_S,
    Max = max_seq_t(Host),
    case DbType of
	pgsql ->
	    ejabberd_sql:sql_query_t(
	      ?SQL("insert into mod_unread_mark (server_host, seq, marked_at)"
		   " values (%(Host)s, %(Max)d, clock_timestamp())")),
	    ejabberd_sql:sql_query_t(
	      ?SQL("delete from mod_unread_mark where server_host=%(Host)s"
		   " and marked_at < now() - %(TTL)d * interval '1 second'"));
	_ ->
	    ejabberd_sql:sql_query_t(
	      ?SQL("insert into mod_unread_mark (server_host, seq, marked_at)"
		   " values (%(Host)s, %(Max)d, now())")),
	    ejabberd_sql:sql_query_t(
	      ?SQL("delete from mod_unread_mark where server_host=%(Host)s"
		   " and marked_at < now() - interval %(TTL)d second"))
    end.

%% The watermark only rises, whichever node prunes.
record_pruned(pgsql, Host, Below) ->
    ejabberd_sql:sql_query_t(
      ?SQL("insert into mod_unread_pruned (server_host, below_id)"
	   " values (%(Host)s, %(Below)d) on conflict (server_host) do update"
	   " set below_id = greatest(mod_unread_pruned.below_id, excluded.below_id)"));
record_pruned(_, Host, Below) ->
    ejabberd_sql:sql_query_t(
      ?SQL("insert into mod_unread_pruned (server_host, below_id)"
	   " values (%(Host)s, %(Below)d) on duplicate key update"
	   " below_id = greatest(below_id, values(below_id))")).
