%%%----------------------------------------------------------------------
%%% File    : mod_unread_sql.erl
%%% Purpose : mod_unread's backend for mod_offline with db_type: sql
%%%           (MySQL/MariaDB and PostgreSQL, ejabberd's new SQL schema).
%%%
%%% ejabberd runs no hook for most deletions from spool, and another node or
%%% a DBA changes spool without telling this node at all. So the database
%%% records every delete and update itself: triggers on spool append to a
%%% change log (sql/pg.sql, sql/mysql.sql) in the same transaction as the
%%% change, and mod_unread_sql_log on each node reads that log in id order,
%%% and spool by seq for new rows, and sends the changes to the host's
%%% mod_unread_server.
%%%
%%% A spool row becomes an #offline_msg{} the way mod_offline_sql makes one
%%% (its packet parsed, its sender and recipient from the packet), with the
%%% timestamp mod_offline put in its <delay/> and the row's seq in the
%%% record's expire field: mod_offline's SQL store keeps no expiry and
%%% mod_unread never reads it there, and it keeps two rows with identical
%%% XML two messages, as spool holds them. The same row always makes the
%%% same record, whether read from spool or from the log, so the index can
%%% delete what it inserted.
%%%----------------------------------------------------------------------
-module(mod_unread_sql).

-behaviour(mod_unread).

-export([check/1, subscribe/1, unsubscribe/1, fold/3, load/4, read_user/2, classify/2]).
%% For mod_unread_sql_log, mod_unread_sql_schema and mod_unread_server.
-export([row_records/2, sql_type/1, range/4, index_rows/4]).
%% For mod_unread_purge.
-export([records/2]).
%% One row's record, and the reference path the scanner is tested against;
%% the rebuild's ranges.
-export([record/5, parsed_record/5, split/3]).
%% The rebuild's reading alone, for bench/unread_sql_bench.erl.
-export([read_pages/3]).

-include("xmpp.hrl").
-include("logger.hrl").
-include("mod_offline.hrl").
-include("ejabberd_sql_pt.hrl").


%%%===================================================================
%%% Backend callbacks
%%%===================================================================
%% mod_unread indexes a host only when this passes: the database must be one
%% whose triggers we ship, with the schema that has spool.server_host, and
%% the change log and its triggers must be there (made now if they may be).
check(Host) ->
    case sql_type(Host) of
	{error, _} = Err ->
	    Err;
	{ok, _Type} ->
	    case ejabberd_sql:use_new_schema() of
		false ->
		    {error, "mod_unread needs ejabberd's new SQL schema (spool with "
		     "server_host): set new_sql_schema: true (see ejabberd's "
		     "sql/*.new.sql and the old-to-new migration scripts)"};
		true ->
		    mod_unread_sql_schema:ensure(Host)
	    end
    end.

-spec sql_type(binary()) -> {ok, mysql | pgsql} | {error, string()}.
sql_type(Host) ->
    case ejabberd_option:sql_type(Host) of
	mysql -> {ok, mysql};
	pgsql -> {ok, pgsql};
	Other ->
	    {error, lists:flatten(
		      io_lib:format("mod_unread supports sql_type mysql and pgsql, "
				    "not ~ts", [Other]))}
    end.

subscribe(Host) ->
    case mod_unread_sql_log:start_link(Host, self()) of
	{ok, _Pid} -> ok;
	{error, _} = Err -> Err
    end.

unsubscribe(Host) ->
    mod_unread_sql_log:stop(Host).

classify({mod_unread_sql, Host, Op}, Host) ->
    Op;
classify({mod_unread_sql, _OtherHost, _Op}, _Host) ->
    ignore;
classify(_Msg, _Host) ->
    unknown.

%% Reads the host's spool in pages by seq (its keyset), with ?READERS
%% readers, each paging through its own range of seqs, while this process
%% hands the pages to Fun one at a time. A reader fetches its next page only
%% once its last one is taken, so no more than two pages a reader are in
%% memory whatever the table's size. A row written or deleted meanwhile, in
%% a range or above them all, is in the change log the server replays
%% afterwards.
fold(Host, ChunkSize, Fun) ->
    read_pages(Host, ChunkSize,
	       fun(Rows) ->
		       Recs = records(Host, Rows),
		       Fun(Recs),
		       length(Recs)
	       end).

%% The rebuild's way: each page goes to the NIF as the rows are, scanned and
%% indexed there without an Erlang term per row (index_rows/4).
load(Host, ChunkSize, Index, PreviewChars) ->
    read_pages(Host, ChunkSize,
	       fun(Rows) -> index_rows(Index, Host, Rows, PreviewChars) end).

%% Indexes spool rows {Seq, LUser, XML, CreatedAt}; the few rows the scanner
%% declines are parsed here as record/5 parses them. Returns how many rows
%% made a message (rows already indexed count too: inserting is idempotent).
-spec index_rows(unread_nif:index(), binary(), [{integer(), binary(), binary(), binary()}],
		 non_neg_integer()) -> non_neg_integer().
index_rows(Index, Host, Rows, PreviewChars) ->
    {N, Declined} = unread_nif:insert_rows(Index, Host, Rows, PreviewChars),
    Recs = [R || {S, U, X, C} <- Declined, {ok, R} <- [parsed_record(U, Host, S, X, C)]],
    unread_nif:insert_many(Index, Recs, PreviewChars),
    N + length(Recs).

%% One reader's chain of work (query, the database, ejabberd's driver
%% decoding the rows) is a row of waits: with one reader, a third of a
%% two-core host sat idle during a rebuild and the rebuild took 1.2-1.5x a
%% bare select of the same pages; with three, about as long as the select
%% (docs/benchmarks.md). Each reader holds one of the pool's connections
%% while it queries.
-define(READERS, 3).

%% Fun(Rows) -> Count for each page of rows {Seq, LUser, XML, CreatedAt},
%% pages in no particular order. Returns {ok, the sum of the counts}.
-spec read_pages(binary(), pos_integer(), fun(([tuple()]) -> non_neg_integer())) ->
			{ok, non_neg_integer()} | {error, term()}.
read_pages(Host, ChunkSize, Fun) ->
    case seq_bounds(Host) of
	{ok, {Lo, Hi}} when Lo > Hi ->
	    {ok, 0};
	{ok, {Lo, Hi}} ->
	    Owner = self(),
	    Readers = [spawn_monitor(fun() -> page_reader(Owner, Host, ChunkSize, After, Last) end)
		       || {After, Last} <- split(Lo - 1, Hi, ?READERS)],
	    try fold_pages(Readers, Fun, 0)
	    after
		[begin erlang:demonitor(Ref, [flush]), exit(Pid, kill) end
		 || {Pid, Ref} <- Readers]
	    end;
	{error, _} = Err ->
	    Err
    end.

%% The seqs above After up to Last, in at most N ranges {After_i, Last_i}
%% of about the same width.
-spec split(integer(), integer(), pos_integer()) -> [{integer(), integer()}].
split(After, Last, N) ->
    Width = max(1, (Last - After + N - 1) div N),
    [{A, min(Last, A + Width)} || A <- lists:seq(After, Last - 1, Width)].

%% The host's lowest and highest seq ({1, 0} for none).
seq_bounds(Host) ->
    case ejabberd_sql:sql_query(
	   Host, ?SQL("select @(coalesce(min(seq), 1))d, @(coalesce(max(seq), 0))d"
		      " from spool where server_host=%(Host)s")) of
	{selected, [{Lo, Hi}]} -> {ok, {Lo, Hi}};
	Err -> {error, Err}
    end.

fold_pages([], _Fun, N) ->
    {ok, N};
fold_pages(Readers, Fun, N) ->
    receive
	{page, Reader, Rows} ->
	    Reader ! next,
	    fold_pages(Readers, Fun, N + Fun(Rows));
	{done, Reader} ->
	    {value, {_, Ref}} = lists:keysearch(Reader, 1, Readers),
	    erlang:demonitor(Ref, [flush]),
	    fold_pages(lists:keydelete(Reader, 1, Readers), Fun, N);
	{page_error, _Reader, Reason} ->
	    {error, Reason};
	{'DOWN', _Ref, process, _, Reason} ->
	    {error, {page_reader, Reason}}
    end.

page_reader(Owner, Host, ChunkSize, After, Last) ->
    %% A reader waiting for its page to be taken would otherwise wait
    %% forever for an owner that was killed.
    OwnerRef = erlang:monitor(process, Owner),
    page_reader(Owner, OwnerRef, Host, ChunkSize, After, Last).

page_reader(Owner, OwnerRef, Host, ChunkSize, After, Last) ->
    case range(Host, After, Last, ChunkSize) of
	{selected, Rows} when length(Rows) < ChunkSize ->
	    [Owner ! {page, self(), Rows} || Rows /= []],
	    Owner ! {done, self()};
	{selected, Rows} ->
	    Owner ! {page, self(), Rows},
	    {LastRead, _, _, _} = lists:last(Rows),
	    receive
		next -> page_reader(Owner, OwnerRef, Host, ChunkSize, LastRead, Last);
		{'DOWN', OwnerRef, process, _, _} -> ok
	    end;
	Err ->
	    Owner ! {page_error, self(), Err}
    end.

%% The host's spool rows {Seq, LUser, XML, CreatedAt} with After < seq =<
%% Last (infinity: no upper end), by seq, at most Limit: a page of the
%% rebuild, and the change log reader's look for rows inserted since it
%% last looked.
-spec range(binary(), integer(), integer() | infinity, pos_integer()) ->
		   {selected, [tuple()]} | term().
range(Host, After, Last, Limit) ->
    %% MariaDB would otherwise use the index for server_host alone and
    %% test seq row by row, rescanning the host's rows for every page
    %% (measured: a page at seq 900,000 took 0.14 s instead of 0.01 s).
    Page = fun(mysql, _) when Last == infinity ->
		   ejabberd_sql:sql_query_t(
		     ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s"
			  " from spool force index (i_mod_unread_spool_sh_seq)"
			  " where server_host=%(Host)s and seq > %(After)d"
			  " order by seq limit %(Limit)d"));
	      (mysql, _) ->
		   ejabberd_sql:sql_query_t(
		     ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s"
			  " from spool force index (i_mod_unread_spool_sh_seq)"
			  " where server_host=%(Host)s and seq > %(After)d and seq <= %(Last)d"
			  " order by seq limit %(Limit)d"));
	      (_, _) when Last == infinity ->
		   ejabberd_sql:sql_query_t(
		     ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s"
			  " from spool where server_host=%(Host)s and seq > %(After)d"
			  " order by seq limit %(Limit)d"));
	      (_, _) ->
		   ejabberd_sql:sql_query_t(
		     ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s"
			  " from spool where server_host=%(Host)s and seq > %(After)d"
			  " and seq <= %(Last)d order by seq limit %(Limit)d"))
	   end,
    ejabberd_sql:sql_query(Host, Page).

%% The records of spool rows {Seq, LUser, XML, CreatedAt}, in their order, as
%% record/5 makes each, with one scan of them all; rows that make no record
%% are left out.
-spec records(binary(), [{integer(), binary(), binary(), binary()}]) -> [#offline_msg{}].
records(Host, Rows) ->
    [R || {ok, R} <- row_records(Host, Rows)].

%% One result per row, in their order: {ok, Record} or error, as record/5.
-spec row_records(binary(), [{integer(), binary(), binary(), binary()}]) ->
			 [{ok, #offline_msg{}} | error].
row_records(_Host, []) ->
    [];
row_records(Host, Rows) ->
    lists:map(
      fun({declined, {Seq, LUser, XML, CreatedAt}}) ->
	      parsed_record(LUser, Host, Seq, XML, CreatedAt);
	 ({R, _Row}) ->
	      {ok, R}
      end, lists:zip(unread_nif:scan_rows(Host, Rows), Rows)).

%% A database that went away is not waited for: ejabberd's pool would hold
%% the query for its whole query timeout (60 s by default).
-define(READ_USER_TIMEOUT, 5000).

read_user(LUser, Host) ->
    Query = fun() ->
		    ejabberd_sql:sql_query(
		      Host,
		      ?SQL("select @(seq)d, @(username)s, @(xml)s, @(created_at)s from spool"
			   " where username=%(LUser)s and server_host=%(Host)s order by seq"))
	    end,
    {Pid, Ref} = spawn_monitor(fun() -> exit({result, Query()}) end),
    receive
	{'DOWN', Ref, process, Pid, {result, {selected, Rows}}} ->
	    records(Host, Rows);
	{'DOWN', Ref, process, Pid, {result, Err}} ->
	    erlang:error({store_unreachable, Err});
	{'DOWN', Ref, process, Pid, Reason} ->
	    erlang:error({store_unreachable, Reason})
    after ?READ_USER_TIMEOUT ->
	    erlang:demonitor(Ref, [flush]),
	    exit(Pid, kill),
	    erlang:error({store_unreachable, timeout})
    end.

%%%===================================================================
%%% Rows to records
%%%===================================================================
%% The record of a spool row, or error for a row mod_offline could not
%% deliver either (XML that does not parse, a bad sender or recipient).
%% Rows are scanned by the NIF (nif/c_src/spool_xml.hpp), which reads what
%% the index needs straight from the XML and declines what it does not
%% handle exactly; declined rows are parsed here (parsed_record/5). Both
%% give the same index entry for a row: its sender, type, subject, body and
%% date, and the row's seq as its key.
-spec record(binary(), binary(), integer(), binary(), binary()) ->
		    {ok, #offline_msg{}} | error.
record(LUser, Host, Seq, XML, CreatedAt) ->
    Row = {Seq, LUser, XML, CreatedAt},
    case catch unread_nif:scan_rows(Host, [Row]) of
	[#offline_msg{} = R] -> {ok, R};
	_ -> parsed_record(LUser, Host, Seq, XML, CreatedAt)
    end.

%% The record as mod_offline_sql would make it: the packet parsed with
%% fxml, sender and recipient from it.
-spec parsed_record(binary(), binary(), integer(), binary(), binary()) ->
			   {ok, #offline_msg{}} | error.
parsed_record(LUser, Host, Seq, XML, CreatedAt) ->
    %% One try around all of it: a bad JID raises in jid:decode/1.
    try
	#xmlel{} = El = fxml_stream:parse_element(XML),
	From = jid:decode(fxml:get_tag_attr_s(<<"from">>, El)),
	To = jid:decode(fxml:get_tag_attr_s(<<"to">>, El)),
	{ok, #offline_msg{us = {LUser, Host},
			  timestamp = timestamp(El, Host, CreatedAt, Seq),
			  expire = {seq, Seq},
			  from = From, to = To, packet = El}}
    catch
	_:_ -> error
    end.

%% mod_offline dates a message with the <delay/> it adds from the server
%% (a message may carry other delays, from its sender); a row written
%% behind ejabberd's back may have none, and then its created_at counts.
timestamp(#xmlel{children = Els}, Host, CreatedAt, Seq) ->
    Delays = [D || #xmlel{name = <<"delay">>} = D <- Els,
		   fxml:get_tag_attr_s(<<"xmlns">>, D) == ?NS_DELAY],
    Own = [D || D <- Delays, fxml:get_tag_attr_s(<<"from">>, D) == Host],
    case decode_stamp(Own ++ Delays) of
	undefined -> created_at(CreatedAt, Seq);
	TS -> TS
    end.

decode_stamp([]) ->
    undefined;
decode_stamp([D | Rest]) ->
    try xmpp_util:decode_timestamp(fxml:get_tag_attr_s(<<"stamp">>, D))
    catch _:_ -> decode_stamp(Rest)
    end.

%% "YYYY-MM-DD HH:MM:SS[.ffffff]" as both databases print a TIMESTAMP, read
%% as UTC (the time zone ejabberd's servers normally run in). A value that
%% does not parse dates the row by its seq, so its place among the user's
%% messages stays stable.
created_at(CreatedAt, Seq) ->
    try
	<<Date:10/binary, _, Time:8/binary, Frac/binary>> = CreatedAt,
	[Y, Mo, D] = [binary_to_integer(X) || X <- binary:split(Date, <<"-">>, [global])],
	[H, Mi, S] = [binary_to_integer(X) || X <- binary:split(Time, <<":">>, [global])],
	Micro = case Frac of
		    <<".", Digits/binary>> when Digits /= <<>> ->
			binary_to_integer(binary:part(<<Digits/binary, "000000">>, 0, 6));
		    _ -> 0
		end,
	Secs = calendar:datetime_to_gregorian_seconds({{Y, Mo, D}, {H, Mi, S}}) -
	    62167219200,
	{Secs div 1000000, Secs rem 1000000, Micro}
    catch
	_:_ -> {0, Seq div 1000000, Seq rem 1000000}
    end.
