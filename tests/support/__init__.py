"""Helpers and fakes the tests share (fakes of Google's APIs, servers, data); no test lives here."""
