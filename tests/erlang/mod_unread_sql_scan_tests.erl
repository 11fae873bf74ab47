%%% The NIF's spool row scanner (nif/c_src/spool_xml.hpp) against the
%%% reference path it replaces, over generated spool rows: for every row the
%%% scanner reads, what the index gets from it (date, key, sender, type,
%%% subject, preview, listed body) is what it gets from the row parsed with
%%% fxml_stream:parse_element as mod_unread_sql:parsed_record/5 does, and
%%% the reference must accept every row the scanner reads. The rows it
%%% declines go to the reference path in the backend, so they need no check
%%% beyond being declined the same way by insert_rows/4 and scan_rows/2.
-module(mod_unread_sql_scan_tests).

-include_lib("proper/include/proper.hrl").
-include_lib("eunit/include/eunit.hrl").

-define(HOST, <<"localhost">>).
-define(BIG, 1000000).

%%%===================================================================
%%% Generators
%%%===================================================================
word() ->
    ?LET(L, non_empty(list(oneof([range($a, $z), range($A, $Z), range($0, $9)]))),
	 list_to_binary(L)).

%% Pieces of character data: plain text, what escapes it, and rarer things
%% the scanner must decline or read exactly as expat does.
text_piece(Odd) ->
    frequency([{20, word()},
	       {4, <<" ">>},
	       {6, oneof([<<"&lt;">>, <<"&gt;">>, <<"&amp;">>, <<"&quot;">>, <<"&apos;">>])},
	       {4, oneof([<<"&#65;">>, <<"&#x263A;">>, <<"&#x1F600;">>,
			  <<"&#0065;">>, <<"&#9;">>, <<"&#10;">>, <<"&#13;">>])},
	       {3, oneof([<<"<![CDATA[<x>&amp;]]>">>, <<"<![CDATA[]]>">>,
			  <<"<![CDATA[a]b]]c]]>">>])},
	       {4, oneof([<<"é"/utf8>>, <<"€"/utf8>>, <<"😀"/utf8>>, <<"пример"/utf8>>])},
	       {3, oneof([<<"\n">>, <<"\t">>, <<"]x">>, <<">">>, <<"'">>, <<"\"">>])},
	       {2, oneof([<<"<b>nested</b>">>, <<"<b>x<body>inner</body>y</b>">>])},
	       {2, <<"<br/>">>}] ++
	      [{1, oneof([<<"\r">>, <<"\r\n">>, <<"&nbsp;">>, <<"&">>, <<"]]>">>, <<"<!--c-->">>,
			  <<"&#0;">>, <<"&#xD800;">>, <<"\x01">>, <<16#c2, 16#80>>,
			  <<16#ef, 16#bf, 16#bf>>, <<255>>, <<16#c0, 16#af>>, <<"<">>,
			  <<"<?pi x?>">>, <<"<x:y/>">>])} || Odd]).

text(Odd) ->
    ?LET(Ps, list(text_piece(Odd)), iolist_to_binary(Ps)).

%% An attribute with a value already written out (escaped) as Raw, in
%% either quote (which one varies with the value).
attr(Name, Raw) ->
    Q = case erlang:phash2({Name, Raw}, 2) of 0 -> $'; 1 -> $" end,
    [$\s, Name, $=, Q, binary:replace(Raw, <<Q>>, <<>>, [global]), Q].

node_part(Odd) ->
    frequency([{10, word()},
	       {3, ?LET({A, B}, {word(), word()}, <<A/binary, ".", B/binary>>)},
	       {2, ?LET({A, S, B}, {word(), oneof([<<"+">>, <<"_">>, <<"-">>] ++ [<<"..">> || Odd]), word()},
			<<A/binary, S/binary, B/binary>>)}] ++
	      [{1, oneof([<<"bö"/utf8>>, <<"ÄÖ"/utf8>>, <<"a b">>, <<>>, <<"a@b">>, <<".a">>,
			  <<"A&amp;B">>, <<"ǅ"/utf8>>])} || Odd]).

domain(Odd) ->
    frequency([{10, oneof([<<"localhost">>, <<"LocalHost">>, <<"example.org">>,
			   <<"conference.localhost">>, <<"a-b.example">>])}] ++
	      [{1, oneof([<<"host.">>, <<"a..b">>, <<"ÉXAMPLE.org"/utf8>>, <<"[::1]">>,
			  <<"under_score.org">>, <<>>, <<"1.2.3.4">>])} || Odd]).

resource(Odd) ->
    frequency([{6, word()},
	       {2, oneof([<<"Some Resource">>, <<"a/b@c">>])}] ++
	      [{1, oneof([<<>>, <<"\t">>, <<"x&#9;">>, <<"Ré"/utf8>>])} || Odd]).

jid(Odd) ->
    ?LET({N, D, R}, {oneof([none, node_part(Odd)]), domain(Odd), oneof([none, resource(Odd)])},
	 iolist_to_binary([case N of none -> []; _ -> [N, $@] end, D,
			   case R of none -> []; _ -> [$/, R] end])).

stamp(Odd) ->
    %% Days past a month's end make xmpp_util fail: the scanner declines them.
    ?LET({Y, Mo, D, H, Mi, S}, {range(1970, 2100), range(1, 12),
				range(1, case Odd of true -> 31; false -> 28 end), range(0, 23),
				range(0, 59), range(0, 59)},
	 ?LET(Tail, frequency([{6, oneof([<<"Z">>, <<".123456Z">>, <<".5Z">>,
					   <<".123456789Z">>])}] ++
			      [{1, oneof([<<"+01:00">>, <<"-05:30">>, <<".Z">>, <<>>, <<"z">>])}
			       || Odd]),
	      iolist_to_binary(io_lib:format("~4..0B-~2..0B-~2..0BT~2..0B:~2..0B:~2..0B~ts",
					     [Y, Mo, D, H, Mi, S, Tail])))).

delay(Odd) ->
    ?LET({NS, From, Stamp, Body},
	 {frequency([{5, <<"urn:xmpp:delay">>}, {1, <<"jabber:x:delay">>}, {1, none}]),
	  frequency([{4, ?HOST}, {2, <<"bob@localhost">>}, {1, none}]),
	  frequency([{8, stamp(Odd)}, {1, <<>>}, {1, none}] ++
		    [{1, oneof([<<"garbage">>, <<"20261130T10:00:00">>])} || Odd]),
	  oneof([<<>>, <<"Offline Storage">>])},
	 [<<"<delay">>,
	  [attr(<<"xmlns">>, NS) || NS /= none],
	  [attr(<<"from">>, From) || From /= none],
	  [attr(<<"stamp">>, Stamp) || Stamp /= none],
	  case Body of <<>> -> <<"/>">>; _ -> [$>, Body, <<"</delay>">>] end]).

lang() -> frequency([{3, none}, {1, <<>>}, {2, oneof([<<"en">>, <<"de">>])}]).

text_el(Name, Odd) ->
    ?LET({Lang, T, Empty}, {lang(), text(Odd), frequency([{8, false}, {1, true}])},
	 [$<, Name, [attr(<<"xml:lang">>, Lang) || Lang /= none],
	  case Empty of
	      true -> <<"/>">>;
	      false -> [$>, T, <<"</">>, Name, $>]
	  end]).

child(Odd) ->
    frequency([{6, text_el(<<"body">>, Odd)},
	       {2, text_el(<<"subject">>, Odd)},
	       {3, delay(Odd)},
	       {1, oneof([<<"<thread>t1</thread>">>, <<"<active xmlns='http://jabber.org/protocol/chatstates'/>">>,
			  <<"<x xmlns='jabber:x:oob'><body>not mine</body><url>u</url></x>">>,
			  <<"<forwarded xmlns='urn:xmpp:forward:0'><message><body>fwd</body>"
			    "<subject>s</subject></message></forwarded>">>])},
	       {1, text(Odd)}]).

type_attr() ->
    frequency([{6, oneof([<<"chat">>, <<"normal">>, <<"groupchat">>, <<"headline">>,
			  <<"error">>])},
	       {1, oneof([<<"weird">>, <<"&#99;hat">>, <<>>])},
	       {2, none}]).

created_at(Odd) ->
    frequency([{4, <<"2026-11-30 10:00:00">>},
	       {2, <<"2026-11-30 10:00:00.25">>},
	       {2, <<"2026-02-28 23:59:59.123456">>},
	       {1, <<>>}] ++
	      [{1, oneof([<<>>, <<"yesterday">>, <<"2026-11-30 10:00:00.12x">>,
			  <<"2026-11-30T10:00:00">>, <<"2026-02-30 10:00:00">>,
			  <<"1969-12-31 23:59:59">>, <<"2026-11-30 10:00:00+00">>])} || Odd]).

message_xml(Odd) ->
    ?LET({From, To, Type, Children, Root},
	 {frequency([{20, jid(Odd)}] ++ [{1, none} || Odd]),
	  frequency([{20, jid(Odd)}] ++ [{1, none} || Odd]),
	  type_attr(), list(child(Odd)), oneof([<<"message">>, <<"message">>, <<"presence">>])},
	 iolist_to_binary(
	   [$<, Root, attr(<<"xmlns">>, <<"jabber:client">>),
	    [attr(<<"from">>, From) || From /= none],
	    [attr(<<"to">>, To) || To /= none],
	    [attr(<<"type">>, Type) || Type /= none],
	    attr(<<"id">>, <<"m1">>), $>, Children, <<"</">>, Root, $>])).

%% Now and then a row damaged in transit or written by hand.
damaged(XML) ->
    frequency([{20, XML},
	       {1, ?LET(N, range(0, byte_size(XML)), binary:part(XML, 0, N))},
	       {1, ?LET({N, B}, {range(0, byte_size(XML)), oneof([$<, $>, $&, $", $', 0, 255, $\r])},
			<<(binary:part(XML, 0, N))/binary, B,
			  (binary:part(XML, N, byte_size(XML) - N))/binary>>)},
	       {1, <<" ", XML/binary>>},
	       {1, <<XML/binary, "\n">>}]).

%% {Odd, Row}: rows in the forms a store holds (Odd = false), which the
%% scanner must read itself, and rows with anything it has to decline or get
%% exactly right (Odd = true).
row() ->
    ?LET(Odd, frequency([{3, false}, {2, true}]),
	 ?LET({Seq, XML, C}, {range(1, 1000000), message_xml(Odd), created_at(Odd)},
	      ?LET(X, case Odd of true -> damaged(XML); false -> XML end,
		   {Odd, {Seq, <<"alice">>, X, C}}))).

%%%===================================================================
%%% What the index makes of a record
%%%===================================================================
entry(Rec) ->
    I = unread_nif:new(),
    true = unread_nif:insert(I, Rec, ?BIG),
    [{Id, Key, From, Type, Subject, Preview}] = unread_nif:page(I, <<"alice">>, 0, 10, <<>>),
    [{Id, Key, Body}] = unread_nif:bodies([Rec], [{Id, Key}]),
    {Id, Key, From, Type, Subject, Preview, Body}.

%% Rows the scanner read, and rows it declined (for the statistics).
-define(COUNTS, mod_unread_sql_scan_counts).

prop_scanner_matches_reference() ->
    ?FORALL(
       {Odd, {Seq, U, X, C} = Row}, row(),
       begin
	   Ref = mod_unread_sql:parsed_record(U, ?HOST, Seq, X, C),
	   [Scanned] = unread_nif:scan_rows(?HOST, [Row]),
	   I = unread_nif:new(),
	   Rows = unread_nif:insert_rows(I, ?HOST, [Row], ?BIG),
	   Record = mod_unread_sql:record(U, ?HOST, Seq, X, C),
	   case Scanned of
	       declined ->
		   ets:update_counter(?COUNTS, declined, 1),
		   ?WHENFAIL(io:format(user, "row ~p ~ts ~p~n", [Seq, X, C]),
			     Odd andalso Rows =:= {0, [Row]} andalso Record =:= Ref);
	       _ ->
		   ets:update_counter(?COUNTS, scanned, 1),
		   Page = unread_nif:page(I, U, 0, 10, <<>>),
		   ?WHENFAIL(io:format(user, "row ~p ~ts ~p~nreference ~p~nscanned ~p~n",
				       [Seq, X, C, Ref, Scanned]),
			     case Ref of
				 {ok, RefRec} ->
				     E = entry(RefRec),
				     {Id, Key, From, Type, Subject, Preview, _} = E,
				     entry(Scanned) =:= E andalso Key =:= Seq
					 andalso Rows =:= {1, []}
					 andalso Page =:= [{Id, Key, From, Type, Subject, Preview}]
					 andalso Record =:= {ok, Scanned};
				 error ->
				     false
			     end)
	   end
       end).

setup() ->
    ok = jid:start(),
    ok = stringprep:start(),
    ets:new(?COUNTS, [named_table, public]),
    ets:insert(?COUNTS, [{scanned, 0}, {declined, 0}]).

scanner_matches_reference_test_() ->
    {timeout, 600,
     fun() ->
	     setup(),
	     ?assert(proper:quickcheck(prop_scanner_matches_reference(),
				       [{numtests, 20000}, {to_file, user}])),
	     [{_, S}] = ets:lookup(?COUNTS, scanned),
	     [{_, D}] = ets:lookup(?COUNTS, declined),
	     io:format(user, "scanned ~B rows, declined ~B~n", [S, D]),
	     ?assert(S > D)
     end}.

%% Rows as mod_offline_sql writes them are read by the scanner, not
%% declined: the rebuild's speed depends on it.
stored_rows_are_scanned_test() ->
    XML = <<"<message xmlns='jabber:client' from='bob@localhost/res' to='alice@localhost' "
	    "type='chat' id='m1'><body>hi &amp; bye</body><delay xmlns='urn:xmpp:delay' "
	    "from='localhost' stamp='2026-11-30T10:00:00.123456Z'>Offline Storage</delay>"
	    "</message>">>,
    Row = {5, <<"alice">>, XML, <<"2026-11-30 10:00:01">>},
    I = unread_nif:new(),
    ?assertEqual({1, []}, unread_nif:insert_rows(I, ?HOST, [Row], 64)),
    ?assertMatch([{1796032800123456, 5, <<"bob@localhost">>, chat, <<>>, <<"hi & bye">>}],
		 unread_nif:page(I, <<"alice">>, 0, 10, <<>>)),
    [Rec] = unread_nif:scan_rows(?HOST, [Row]),
    ?assertMatch({offline_msg, {<<"alice">>, ?HOST}, {1796, 32800, 123456}, {seq, 5}, _, _, _},
		 Rec),
    %% Deleting the scanned record removes what insert_rows put in.
    ?assert(unread_nif:delete_object(I, Rec)),
    ?assertEqual(0, unread_nif:count(I, <<"alice">>)).

bad_arguments_test_() ->
    I = unread_nif:new(),
    [?_assertError(badarg, unread_nif:insert_rows(I, ?HOST, not_a_list, 64)),
     ?_assertError(badarg, unread_nif:insert_rows(I, not_a_host, [], 64)),
     ?_assertError(badarg, unread_nif:insert_rows(not_an_index, ?HOST, [], 64)),
     ?_assertError(badarg, unread_nif:scan_rows(?HOST, [x | y])),
     %% Rows of another shape are declined, for the caller to judge.
     ?_assertEqual({0, [x, {1, 2, 3, 4}]}, unread_nif:insert_rows(I, ?HOST, [x, {1, 2, 3, 4}], 64)),
     ?_assertEqual([declined], unread_nif:scan_rows(?HOST, [{-1, <<>>, <<>>, <<>>}]))].
