%%% EUnit tests of the body chooser and of a message's identity: the body a
%%% listing shows is the one the preview was cut from (the first <body/>
%%% without xml:lang, or with an empty one; else the first), and records
%%% stored for a user in the same microsecond each keep their own body.
-module(unread_nif_body_tests).

-include_lib("eunit/include/eunit.hrl").

jid(U) -> {jid, U, <<"h">>, <<>>, U, <<"h">>, <<>>}.

body(Attrs, Cdata) -> {xmlel, <<"body">>, Attrs, [{xmlcdata, C} || C <- Cdata]}.

lang(L) -> [{<<"xml:lang">>, L}].

%% An #offline_msg{} of user "a" with the given <message/> children.
rec(Usec, Children) ->
    rec(Usec, <<"b">>, Children).
rec(Usec, From, Children) ->
    Pkt = {xmlel, <<"message">>, [{<<"type">>, <<"chat">>}], Children},
    {offline_msg, {<<"a">>, <<"h">>}, {Usec div 1000000000000, (Usec div 1000000) rem 1000000,
				       Usec rem 1000000},
     never, jid(From), jid(<<"a">>), Pkt}.

%% [{Preview, Body}] of the records, newest first, as unread_list pairs them.
listed(Recs, PreviewChars) ->
    I = unread_nif:new(),
    unread_nif:insert_many(I, Recs, PreviewChars),
    Page = unread_nif:page(I, <<"a">>, 0, 1000, <<>>),
    Bodies = maps:from_list([{{Id, Key}, B} || {Id, Key, B}
						   <- unread_nif:bodies(Recs, [{Id, Key} || {Id, Key, _, _, _, _} <- Page])]),
    [{Preview, maps:get({Id, Key}, Bodies)} || {Id, Key, _, _, _, Preview} <- Page].

chooser(Children) ->
    [{Preview, Body}] = listed([rec(1, Children)], 1000),
    ?assertEqual(Preview, Body),
    Body.

first_body_without_lang_is_chosen_test() ->
    ?assertEqual(<<"Hello">>, chooser([body(lang(<<"de">>), [<<"Hallo">>]),
				       body([], [<<"Hello">>]),
				       body([], [<<"Second">>])])).

empty_lang_counts_as_none_test() ->
    ?assertEqual(<<"Plain">>, chooser([body(lang(<<"fr">>), [<<"Bonjour">>]),
				       body(lang(<<>>), [<<"Plain">>])])).

first_body_when_all_have_a_lang_test() ->
    ?assertEqual(<<"Hallo">>, chooser([body(lang(<<"de">>), [<<"Hallo">>]),
				       body(lang(<<"fr">>), [<<"Bonjour">>])])).

other_elements_and_no_body_test() ->
    ?assertEqual(<<"x">>, chooser([{xmlel, <<"active">>, [], []}, {xmlcdata, <<"stray">>},
				   body([], [<<"x">>])])),
    ?assertEqual(<<>>, chooser([{xmlel, <<"subject">>, [], [{xmlcdata, <<"s">>}]}])).

split_character_data_is_joined_test() ->
    ?assertEqual(<<"one two">>, chooser([body([], [<<"one">>, <<" ">>, <<"two">>])])),
    %% The preview is cut from the joined text too.
    ?assertEqual([{<<"one t">>, <<"one two">>}],
		 listed([rec(1, [body([], [<<"one">>, <<" ">>, <<"two">>])])], 5)).

preview_is_a_prefix_of_the_listed_body_test() ->
    Long = unicode:characters_to_binary([$a + (N rem 26) || N <- lists:seq(1, 300)] ++ [16#e9]),
    [{Preview, Body}] = listed([rec(1, [body(lang(<<"en">>), [<<"other">>]),
					body([], [Long])])], 64),
    ?assertEqual(Long, Body),
    ?assertEqual(64, string:length(Preview)),
    ?assertEqual(Preview, binary:part(Body, 0, byte_size(Preview))).

same_microsecond_records_keep_their_own_bodies_test() ->
    Recs = [rec(7, [body([], [<<"first">>])]),
	    rec(7, [body([], [<<"second">>])]),
	    rec(7, <<"c">>, [body([], [<<"first">>])]),
	    rec(8, [body([], [<<"later">>])])],
    Listed = listed(Recs, 3),
    ?assertEqual(4, length(Listed)),
    [?assertEqual(P, binary:part(B, 0, byte_size(P))) || {P, B} <- Listed],
    ?assertEqual(lists:sort([<<"first">>, <<"first">>, <<"second">>, <<"later">>]),
		 lists:sort([B || {_, B} <- Listed])),
    %% Keys are per record, the same whichever call computes them: deleting
    %% one of the records stored in the same microsecond removes that one.
    I = unread_nif:new(),
    unread_nif:insert_many(I, Recs, 3),
    ?assert(unread_nif:delete_object(I, lists:nth(2, Recs))),
    ?assertNot(unread_nif:delete_object(I, lists:nth(2, Recs))),
    Left = unread_nif:page(I, <<"a">>, 0, 10, <<>>),
    ?assertEqual([<<"fir">>, <<"fir">>, <<"lat">>],
		 lists:sort([P || {_, _, _, _, _, P} <- Left])),
    ?assertEqual([<<"b@h">>, <<"c@h">>], lists:sort([F || {7, _, F, _, _, _} <- Left])),
    [K1, K2] = [K || {7, K, _, _, _, _} <- Left],
    ?assertNotEqual(K1, K2).

bodies_returns_only_wanted_records_test() ->
    Recs = [rec(N, [body([], [integer_to_binary(N)])]) || N <- lists:seq(1, 50)],
    I = unread_nif:new(),
    unread_nif:insert_many(I, Recs, 8),
    Page = unread_nif:page(I, <<"a">>, 5, 3, <<>>),
    Wanted = [{Id, Key} || {Id, Key, _, _, _, _} <- Page],
    ?assertEqual(lists:sort([{Id, Key, integer_to_binary(Id)} || {Id, Key} <- Wanted]),
		 lists:sort(unread_nif:bodies(Recs, Wanted))),
    ?assertEqual([], unread_nif:bodies(Recs, [])),
    %% Right id, wrong key: not that record.
    [{Id0, Key0} | _] = Wanted,
    ?assertEqual([], unread_nif:bodies(Recs, [{Id0, Key0 bxor 1}])).

xmpp_message_records_use_the_same_chooser_test() ->
    Msg = {message, <<>>, chat, <<>>, undefined, undefined, [],
	   [{text, <<"de">>, <<"Hallo">>}, {text, <<>>, <<"Hello">>}], undefined, [], #{}},
    R = setelement(7, rec(3, []), Msg),
    ?assertEqual([{<<"Hel">>, <<"Hello">>}], listed([R], 3)).
