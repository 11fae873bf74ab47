%%%----------------------------------------------------------------------
%%% File    : mod_unread_mnesia.erl
%%% Purpose : mod_unread's backend for mod_offline with db_type: mnesia.
%%%
%%% Hooks miss most deletions (XEP-0013 purge, delete_old_messages,
%%% delete_expired_messages, WebAdmin), so the index follows the table
%%% itself: mnesia reports every write and delete of the local replica,
%%% whatever code path made it, and a node holding a replica also hears of
%%% the other nodes' changes.
%%%----------------------------------------------------------------------
-module(mod_unread_mnesia).

-behaviour(mod_unread).

-export([subscribe/1, unsubscribe/1, fold/3, read_user/2, classify/2]).

-include("xmpp.hrl").
-include("mod_offline.hrl").

%% One subscription per process covers every host: classify/2 sorts the
%% events by host.
subscribe(_Host) ->
    case mnesia:subscribe({table, offline_msg, simple}) of
	{ok, _Node} -> ok;
	{error, _} = Err -> Err
    end.

unsubscribe(_Host) ->
    _ = mnesia:unsubscribe({table, offline_msg, simple}),
    ok.

%% dets does the host filtering while it reads.
fold(Host, ChunkSize, Fun) ->
    Spec = [{#offline_msg{us = {'_', Host}, _ = '_'}, [], ['$_']}],
    First = fun() -> mnesia:select(offline_msg, Spec, ChunkSize, read) end,
    case catch fix_table(true) of
	{'EXIT', Reason} ->
	    {error, Reason};
	_ ->
	    try read_in_turns(ChunkSize, First, Fun)
	    after catch fix_table(false)
	    end
    end.

%% A decoded #offline_msg{} of a short chat message is about 150 heap words;
%% reading a chunk needs room for it and for the garbage reading leaves.
-define(HEAP_WORDS_PER_RECORD, 400).

%% Each reader keeps a heap that holds a chunk or two: left to size itself,
%% its heap shrinks while it waits for its turn and grows again when it
%% reads, and the memory mapped and unmapped each time costs a third more
%% CPU than the reading itself (measured: 360,000 page faults against 6,000
%% for a million records).
read_in_turns(ChunkSize, First, Fun) ->
    Opts = [monitor, {min_heap_size, ChunkSize * ?HEAP_WORDS_PER_RECORD}],
    Workers = maps:from_list([{Ref, Pid} || _ <- [1, 2],
					    {Pid, Ref} <- [spawn_opt(reader(self(), Fun), Opts)]]),
    [A, B] = maps:values(Workers),
    A ! {peer, B},
    B ! {peer, A},
    A ! {read, First},
    wait_readers(Workers, 0).

%% A chunked traversal of a table that changes meanwhile is exact only while
%% the table is fixed: otherwise dets (or ets) moves records between slots as
%% the table grows or shrinks, and the traversal misses or repeats them, even
%% records that did not change (seen: whole users missing after a rebuild
%% during stores and removes). Fixed, every record present throughout is read
%% at least once (dets may also hand out the old copy of a record a write
%% moved: inserting it twice changes nothing); a record added or removed
%% meanwhile may be read or not, and its table event is replayed after the
%% rebuild. While the table is fixed by
%% another process, dets pauses 1 ms after each write, so stores slow down
%% during a rebuild. The fix is the calling process's, released at its exit
%% at the latest.
fix_table(Fix) ->
    case mnesia:table_info(offline_msg, storage_type) of
	disc_only_copies -> dets:safe_fixtable(offline_msg, Fix);
	unknown -> ok;  % no local replica: read from another node
	_ -> ets:safe_fixtable(offline_msg, Fix)
    end.

%% Reading overlaps with Fun: two processes take turns reading a chunk, and
%% each hands the select continuation to the other before it runs Fun on the
%% chunk it read. A chunk stays in the process that read it: sending it to
%% another process would copy every record, which costs about a quarter of
%% the read itself. So Fun runs in either reader, while the other reads the
%% next chunk, and at most two chunks are in memory. (mnesia takes a dirty
%% select's continuation from another process.)
reader(Owner, Fun) ->
    fun() ->
	    OwnerRef = erlang:monitor(process, Owner),
	    Peer = receive {peer, P} -> P end,
	    N = mnesia:activity(async_dirty, fun() -> take_turns(Peer, OwnerRef, Fun, 0) end),
	    exit({done, N})
    end.

take_turns(Peer, OwnerRef, Fun, N) ->
    receive
	{read, Read} ->
	    case Read() of
		'$end_of_table' ->
		    Peer ! done,
		    N;
		{Records, Cont} ->
		    Peer ! {read, fun() -> mnesia:select(Cont) end},
		    Fun(Records),
		    take_turns(Peer, OwnerRef, Fun, N + length(Records))
	    end;
	done ->
	    N;
	{'DOWN', OwnerRef, process, _, Reason} ->
	    exit(Reason)
    end.

wait_readers(Workers, N) when map_size(Workers) == 0 ->
    {ok, N};
wait_readers(Workers, N) ->
    receive
	{'DOWN', Ref, process, _, {done, Count}} when is_map_key(Ref, Workers) ->
	    wait_readers(maps:remove(Ref, Workers), N + Count);
	{'DOWN', Ref, process, _, Reason} when is_map_key(Ref, Workers) ->
	    Others = maps:remove(Ref, Workers),
	    [begin erlang:demonitor(R, [flush]), exit(P, kill) end
	     || {R, P} <- maps:to_list(Others)],
	    {error, Reason}
    end.

read_user(LUser, LServer) ->
    mnesia:dirty_read(offline_msg, {LUser, LServer}).

classify({mnesia_table_event, Event}, Host) ->
    classify_event(Event, Host);
classify(_Msg, _Host) ->
    unknown.

classify_event({write, #offline_msg{us = {_, Host}} = R, _Tid}, Host) ->
    {insert, R};
classify_event({delete_object, #offline_msg{us = {_, Host}} = R, _Tid}, Host) ->
    {delete_object, R};
classify_event({delete, {offline_msg, {LUser, Host}}, _Tid}, Host) ->
    {delete_user, LUser};
%% clear_table/1 is reported as a delete of the table's schema entry.
classify_event({delete, {schema, offline_msg}, _Tid}, _Host) ->
    clear;
classify_event(_Event, _Host) ->
    ignore.
