%%%----------------------------------------------------------------------
%%% File    : mod_unread_mnesia.erl
%%% Purpose : How mod_unread learns what mod_offline's mnesia store holds.
%%%
%%% Hooks miss most deletions (XEP-0013 purge, delete_old_messages,
%%% delete_expired_messages, WebAdmin), so the index follows the table
%%% itself: mnesia reports every write and delete of the local replica,
%%% whatever code path made it. A SQL store would implement the same four
%%% functions another way.
%%%----------------------------------------------------------------------
-module(mod_unread_mnesia).

-export([subscribe/0, unsubscribe/0, fold/3, read_user/2, classify/2]).

-include("xmpp.hrl").
-include("mod_offline.hrl").

-type op() :: {insert, #offline_msg{}} | {delete_object, #offline_msg{}} |
	      {delete_user, binary()} | clear | ignore.
-export_type([op/0]).

-spec subscribe() -> ok | {error, term()}.
subscribe() ->
    case mnesia:subscribe({table, offline_msg, simple}) of
	{ok, _Node} -> ok;
	{error, _} = Err -> Err
    end.

-spec unsubscribe() -> ok.
unsubscribe() ->
    _ = mnesia:unsubscribe({table, offline_msg, simple}),
    ok.

%% Calls Fun(Records) on the records of Host, ChunkSize at a time; dets does
%% the host filtering while it reads.
-spec fold(binary(), pos_integer(), fun(([#offline_msg{}]) -> any())) ->
		  {ok, non_neg_integer()} | {error, term()}.
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

-spec read_user(binary(), binary()) -> [#offline_msg{}].
read_user(LUser, LServer) ->
    mnesia:dirty_read(offline_msg, {LUser, LServer}).

%% What a table event means for the index of Host.
-spec classify(term(), binary()) -> op().
classify({write, #offline_msg{us = {_, Host}} = R, _Tid}, Host) ->
    {insert, R};
classify({delete_object, #offline_msg{us = {_, Host}} = R, _Tid}, Host) ->
    {delete_object, R};
classify({delete, {offline_msg, {LUser, Host}}, _Tid}, Host) ->
    {delete_user, LUser};
%% clear_table/1 is reported as a delete of the table's schema entry.
classify({delete, {schema, offline_msg}, _Tid}, _Host) ->
    clear;
classify(_Event, _Host) ->
    ignore.
