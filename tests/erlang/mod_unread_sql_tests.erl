%% mod_unread_sql's pure parts: spool rows as records (what the index
%% inserts from spool or from the change log, and deletes from the log), and
%% the shipped SQL files as the statements the module runs.
-module(mod_unread_sql_tests).

-include_lib("proper/include/proper.hrl").
-include_lib("eunit/include/eunit.hrl").
-include("xmpp.hrl").
-include("mod_offline.hrl").

-define(HOST, <<"localhost">>).

%% As mod_offline_sql writes a row: the packet with from/to and the delay
%% it adds from the server.
xml(Body, Stamp) ->
    <<"<message xmlns='jabber:client' from='bob@localhost/res' to='alice@localhost' "
      "type='chat' id='m1'><body>", Body/binary, "</body><delay xmlns='urn:xmpp:delay' "
      "from='localhost' stamp='", Stamp/binary, "'>Offline Storage</delay></message>">>.

%% The reference path: the row parsed as mod_offline_sql parses it.
parsed_record_of_a_mod_offline_row_test() ->
    {ok, R} = mod_unread_sql:parsed_record(<<"alice">>, ?HOST, 7,
					   xml(<<"hi">>, <<"2026-11-30T10:00:00.123456Z">>),
					   <<"2026-11-30 10:00:01">>),
    #offline_msg{us = Us, timestamp = TS, expire = Expire, from = From, to = To,
		 packet = El} = R,
    ?assertEqual({<<"alice">>, ?HOST}, Us),
    ?assertEqual({1796, 32800, 123456}, TS),
    ?assertEqual({seq, 7}, Expire),
    ?assertEqual({<<"bob">>, <<"localhost">>, <<"res">>}, jid:tolower(From)),
    ?assertEqual({<<"alice">>, <<"localhost">>, <<>>}, jid:tolower(To)),
    ?assertMatch(#xmlel{name = <<"message">>}, El).

%% record/5 scans such a row in the NIF: the bare sender, the chosen body,
%% the same date and seq.
record_of_a_mod_offline_row_test() ->
    {ok, R} = mod_unread_sql:record(<<"alice">>, ?HOST, 7,
				    xml(<<"hi">>, <<"2026-11-30T10:00:00.123456Z">>),
				    <<"2026-11-30 10:00:01">>),
    #offline_msg{us = Us, timestamp = TS, expire = Expire, from = From,
		 packet = Packet} = R,
    ?assertEqual({<<"alice">>, ?HOST}, Us),
    ?assertEqual({1796, 32800, 123456}, TS),
    ?assertEqual({seq, 7}, Expire),
    ?assertEqual({<<"bob">>, <<"localhost">>, <<>>}, jid:tolower(From)),
    ?assertMatch(#message{type = chat, body = [#text{data = <<"hi">>}]}, Packet).

%% A delay of the sender's own (a forwarded or resent message) is not when
%% the server stored it.
server_delay_wins_test() ->
    XML = <<"<message xmlns='jabber:client' from='bob@localhost' to='alice@localhost'>"
	    "<delay xmlns='urn:xmpp:delay' from='bob@localhost' stamp='2020-01-01T00:00:00Z'/>"
	    "<body>x</body>"
	    "<delay xmlns='urn:xmpp:delay' from='localhost' stamp='2026-11-30T10:00:00Z'/>"
	    "</message>">>,
    {ok, #offline_msg{timestamp = TS}} = mod_unread_sql:record(<<"alice">>, ?HOST, 1, XML, <<>>),
    ?assertEqual(1796032800, element(1, TS) * 1000000 + element(2, TS)).

%% A row written behind ejabberd's back, without a delay: its created_at.
created_at_without_delay_test_() ->
    XML = <<"<message xmlns='jabber:client' from='bob@localhost' to='alice@localhost'>"
	    "<body>x</body></message>">>,
    Secs = fun(C) ->
		   {ok, #offline_msg{timestamp = {M, S, U}}} =
		       mod_unread_sql:record(<<"alice">>, ?HOST, 1, XML, C),
		   {M * 1000000 + S, U}
	   end,
    [?_assertEqual({1796032800, 0}, Secs(<<"2026-11-30 10:00:00">>)),
     ?_assertEqual({1796032800, 250000}, Secs(<<"2026-11-30 10:00:00.25">>)),
     ?_assertEqual({1796032800, 123456}, Secs(<<"2026-11-30 10:00:00.123456">>)),
     %% Unreadable: dated by seq, so it keeps a stable place.
     ?_assertEqual({0, 1}, Secs(<<"yesterday">>))].

bad_rows_are_skipped_test_() ->
    [?_assertEqual(error, mod_unread_sql:record(<<"a">>, ?HOST, 1, <<"<message">>, <<>>)),
     ?_assertEqual(error, mod_unread_sql:record(<<"a">>, ?HOST, 1,
						<<"<message from='@@' to='a@localhost'/>">>, <<>>)),
     ?_assertEqual(error, mod_unread_sql:record(<<"a">>, ?HOST, 1, <<"not xml">>, <<>>))].

%% spool may hold two rows with the same XML (the same stanza stored twice
%% in one microsecond): two messages, as get_offline_count counts them. The
%% index tells them apart because the row's seq is in the record, and a
%% delete read from the change log removes exactly the row it names.
identical_rows_stay_two_messages_test() ->
    XML = xml(<<"same">>, <<"2026-11-30T10:00:00.000001Z">>),
    Row = fun(Seq) ->
		  {ok, R} = mod_unread_sql:record(<<"alice">>, ?HOST, Seq, XML, <<>>),
		  R
	  end,
    ?assertEqual(Row(1), Row(1)),
    I = unread_nif:new(),
    ?assert(unread_nif:insert(I, Row(1), 64)),
    ?assert(unread_nif:insert(I, Row(2), 64)),
    ?assertNot(unread_nif:insert(I, Row(2), 64)),
    ?assertEqual(2, unread_nif:count(I, <<"alice">>)),
    ?assert(unread_nif:delete_object(I, Row(1))),
    ?assertEqual(1, unread_nif:count(I, <<"alice">>)),
    ?assertNot(unread_nif:delete_object(I, Row(1))),
    ?assert(unread_nif:delete_object(I, Row(2))),
    ?assertEqual(0, unread_nif:count(I, <<"alice">>)).

schema_file(Name) ->
    {ok, Text} = file:read_file(mod_unread_sql_schema:file(Name)),
    mod_unread_sql_schema:statements(Text).

%% What the module runs at start is every statement of the file operators
%% run by hand, one at a time, function bodies whole.
pg_statements_test() ->
    Stmts = schema_file(pgsql),
    ?assertEqual(12, length(Stmts)),
    [?assertMatch(<<"CREATE ", _/binary>>, S) || S <- Stmts],
    [?assertNotEqual($;, binary:last(S)) || S <- Stmts],
    Funs = [S || S <- Stmts, binary:match(S, <<"FUNCTION">>) /= nomatch,
		 binary:match(S, <<"TRIGGER mod_unread">>) == nomatch],
    ?assertEqual(2, length(Funs)),
    [?assertMatch({_, _}, binary:match(F, <<"END $$">>)) || F <- Funs].

implements_every_callback_test() ->
    Exports = mod_unread_sql:module_info(exports),
    ?assertEqual([], mod_unread:behaviour_info(callbacks) -- Exports).

mysql_statements_test() ->
    Stmts = schema_file(mysql),
    ?assertEqual(8, length(Stmts)),
    %% Creates, and the drop of the insert trigger earlier releases made.
    {Creates, Drops} = lists:partition(fun(S) -> binary:match(S, <<"CREATE ">>) == {0, 7} end,
				       Stmts),
    ?assertEqual([<<"DROP TRIGGER IF EXISTS mod_unread_spool_inserted">>], Drops),
    ?assertEqual(2, length([S || S <- Creates, binary:match(S, <<"TRIGGER">>) /= nomatch])).

%% Comment lines go, and so does a semicolon inside a $$ body.
statements_split_test() ->
    ?assertEqual([<<"A">>, <<"B $$ x;\n y; $$">>, <<"C">>],
		 mod_unread_sql_schema:statements(
		   <<"-- c;\nA;\nB $$ x;\n y; $$;\n  -- d\nC;\n">>)).

%% The rebuild's ranges of seqs, {After, Last}: every seq above After up to
%% Last in exactly one range, ranges in order, at most N of them.
split_examples_test() ->
    ?assertEqual([{0, 4}, {4, 8}, {8, 10}], mod_unread_sql:split(0, 10, 3)),
    ?assertEqual([{4, 5}], mod_unread_sql:split(4, 5, 3)),
    ?assertEqual([{6, 7}, {7, 8}], mod_unread_sql:split(6, 8, 3)),
    ?assertEqual([{-3, 0}, {0, 3}], mod_unread_sql:split(-3, 3, 2)).

prop_split_covers_each_seq_once() ->
    ?FORALL({After, Width, N}, {integer(-1000, 1000), integer(1, 3000), integer(1, 8)},
	    begin
		Last = After + Width,
		Ranges = mod_unread_sql:split(After, Last, N),
		Seqs = lists:append([lists:seq(A + 1, L) || {A, L} <- Ranges]),
		Seqs == lists:seq(After + 1, Last) andalso length(Ranges) =< N
		    andalso lists:all(fun({A, L}) -> A < L end, Ranges)
	    end).

split_property_test() ->
    ?assert(proper:quickcheck(prop_split_covers_each_seq_once(),
			      [{numtests, 2000}, {to_file, user}])).
