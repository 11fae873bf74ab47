%% How commands read user and sender names (mod_unread_jid): bare names go
%% to the default host, full JIDs are lower-cased and nodeprep'd as ejabberd
%% does, anything else is invalid_parameter (HTTP 400).
-module(mod_unread_jid_tests).

-include_lib("eunit/include/eunit.hrl").

-define(DEF, <<"example.com">>).

setup() ->
    %% jid:nodeprep/decode need the stringprep NIF of the xmpp application.
    {ok, _} = application:ensure_all_started(xmpp),
    ok.

not_indexed(_Host) -> false.

user(Name) -> mod_unread_jid:user(Name, ?DEF, fun not_indexed/1).

invalid(F) ->
    ?assertThrow({invalid_parameter, Msg} when is_binary(Msg), F()).

names_test_() ->
    {setup, fun setup/0,
     [{"bare name: default host",
       ?_assertEqual({<<"alice">>, ?DEF}, user(<<"alice">>))},
      {"bare name is nodeprep'd",
       ?_assertEqual({<<"alice">>, ?DEF}, user(<<"Alice">>))},
      {"bare non-ASCII name is nodeprep'd",
       ?_assertEqual({<<"älice"/utf8>>, ?DEF}, user(<<"ÄLICE"/utf8>>))},
      {"bare name without a default host",
       ?_assertEqual(no_default_host,
		     mod_unread_jid:user(<<"alice">>, undefined, fun not_indexed/1))},
      {"full JID without a default host",
       ?_assertEqual({<<"alice">>, <<"b.example">>},
		     mod_unread_jid:user(<<"alice@b.example">>, undefined, fun not_indexed/1))},
      {"full JID is lower-cased",
       ?_assertEqual({<<"alice">>, <<"other.org">>}, user(<<"Alice@Other.ORG">>))},
      {"resource dropped",
       ?_assertEqual({<<"alice">>, <<"other.org">>}, user(<<"alice@other.org/Phone">>))},
      {"plain name on an indexed host skips stringprep",
       ?_assertEqual({<<"alice">>, <<"idx.example">>},
		     mod_unread_jid:user(<<"alice@idx.example">>, ?DEF,
					 fun(H) -> H == <<"idx.example">> end))},
      {"an unplain name on an indexed host is still prepped",
       ?_assertEqual({<<"alice">>, <<"idx.example">>},
		     mod_unread_jid:user(<<"ALICE@idx.example">>, ?DEF,
					 fun(H) -> H == <<"idx.example">> end))},
      {"empty name", ?_test(invalid(fun() -> user(<<>>) end))},
      {"space in a bare name", ?_test(invalid(fun() -> user(<<"al ice">>) end))},
      {"resource on a bare name", ?_test(invalid(fun() -> user(<<"alice/res">>) end))},
      {"no domain after @", ?_test(invalid(fun() -> user(<<"alice@">>) end))},
      {"no user before @", ?_test(invalid(fun() -> user(<<"@example.com">>) end))},
      {"two @", ?_test(invalid(fun() -> user(<<"a@b@c">>) end))},
      {"bad node in a full JID", ?_test(invalid(fun() -> user(<<"a:b@example.com">>) end))}]}.

senders_test_() ->
    {setup, fun setup/0,
     [{"empty: every sender", ?_assertEqual(<<>>, mod_unread_jid:sender(<<>>, ?DEF))},
      {"empty needs no default host",
       ?_assertEqual(<<>>, mod_unread_jid:sender(<<>>, undefined))},
      {"bare sender: default host",
       ?_assertEqual(<<"bob@example.com">>, mod_unread_jid:sender(<<"Bob">>, ?DEF))},
      {"full sender: bare, lower-cased",
       ?_assertEqual(<<"bob@other.org">>,
		     mod_unread_jid:sender(<<"Bob@Other.org/desk">>, ?DEF))},
      {"bare sender without a default host",
       ?_assertEqual(no_default_host, mod_unread_jid:sender(<<"bob">>, undefined))},
      {"malformed sender",
       ?_test(invalid(fun() -> mod_unread_jid:sender(<<"bob@">>, ?DEF) end))}]}.
