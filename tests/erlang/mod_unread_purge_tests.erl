%%% EUnit tests of how purge by sender reads its sender argument.
-module(mod_unread_purge_tests).

-include_lib("eunit/include/eunit.hrl").

parse_sender_test_() ->
    P = fun mod_unread_purge:parse_sender/1,
    [?_assertEqual({jid, <<"spam@bad.example">>}, P(<<"spam@bad.example">>)),
     ?_assertEqual({jid, <<"spam@bad.example">>}, P(<<"Spam@BAD.example/res">>)),
     ?_assertEqual({domain, <<"bad.example">>}, P(<<"@bad.example">>)),
     ?_assertEqual({domain, <<"bad.example">>}, P(<<"BAD.Example">>)),
     ?_assertThrow({invalid_parameter, _}, P(<<>>)),
     ?_assertThrow({invalid_parameter, _}, P(<<"@">>)),
     ?_assertThrow({invalid_parameter, _}, P(<<"@bad.example/x">>)),
     ?_assertThrow({invalid_parameter, _}, P(<<"a@b@c">>)),
     ?_assertThrow({invalid_parameter, _}, P(<<"spam@">>))].
