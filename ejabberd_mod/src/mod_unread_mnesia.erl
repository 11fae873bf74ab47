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
    F = fun() -> fold_chunks(mnesia:select(offline_msg, Spec, ChunkSize, read), Fun, 0) end,
    try mnesia:activity(async_dirty, F) of
	N -> {ok, N}
    catch
	exit:Reason -> {error, Reason}
    end.

fold_chunks('$end_of_table', _Fun, N) ->
    N;
fold_chunks({Records, Cont}, Fun, N) ->
    Fun(Records),
    fold_chunks(mnesia:select(Cont), Fun, N + length(Records)).

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
