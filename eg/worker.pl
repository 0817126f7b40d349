#!/usr/bin/env perl
#
# A presque worker in Perl, core modules only (HTTP::Tiny, JSON::PP), that
# speaks the presque 1 protocol, as Net::Presque workers do:
#
#   GET /q/QUEUE   takes the next job for good (404 when there is none)
#   PUT /q/QUEUE   gives a failed job back, with a "failures" count added
#
# Taking a job for good means a worker that dies with a job in hand loses it;
# see worker.sh and worker.mjs for leases, which do not.
#
#   perl eg/worker.pl URL QUEUE [MAX_JOBS]
#
# It exits after MAX_JOBS jobs (done or failed); without MAX_JOBS it runs
# until SIGTERM or SIGINT, which it honours between two jobs. A job that has
# failed PRESQUE_MAX_FAILURES times (default 5) is dropped with a warning
# instead of being given back.

use strict;
use warnings;

use HTTP::Tiny;
use JSON::PP;
use Sys::Hostname qw(hostname);

my ($url, $queue, $max_jobs) = @ARGV;
die "usage: perl $0 URL QUEUE [MAX_JOBS]\n" unless defined $queue;
die "MAX_JOBS must be a positive integer\n"
    if defined $max_jobs && $max_jobs !~ /^[1-9][0-9]*$/;
$url =~ s{/+$}{};
my $max_failures = $ENV{PRESQUE_MAX_FAILURES} // 5;

my $worker_id = hostname() . "-$$";
my $http = HTTP::Tiny->new(
    agent           => "presque-eg-worker.pl/1 ",
    timeout         => 30,
    default_headers => {
        'X-presque-workerid' => $worker_id,
        # With tokens on ([auth] mode = on), PRESQUE_TOKEN needs the consume scope.
        ($ENV{PRESQUE_TOKEN} ? (Authorization => "Bearer $ENV{PRESQUE_TOKEN}") : ()),
    },
);
my $json = JSON::PP->new->utf8->canonical;
my $jobs_url = "$url/q/" . escape($queue);

my $stopping = 0;
$SIG{TERM} = $SIG{INT} = sub { $stopping = 1 };

# What a worker is for: do the job, or die to fail it. This one fails jobs
# that ask for it with "fail": true, and sleeps "sleep" seconds if asked.
sub process_job {
    my ($job) = @_;
    select(undef, undef, undef, $job->{sleep}) if $job->{sleep};
    die "job asked to fail\n" if $job->{fail};
    print "done ", $json->encode($job), "\n";
}

sub escape {
    my ($text) = @_;
    utf8::encode($text);
    $text =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $text;
}

sub logline { print STDERR "worker.pl[$$] @_\n" }

logline("serving $jobs_url as $worker_id");
$| = 1;
my $handled = 0;
while (!$stopping && (!defined $max_jobs || $handled < $max_jobs)) {
    my $response = $http->get($jobs_url);
    if ($response->{status} == 404) {    # no job, or the queue is closed
        sleep 1;
        next;
    }
    if (!$response->{success}) {         # 599: could not connect; 5xx: try later
        logline("fetch: $response->{status} $response->{reason}: $response->{content}");
        sleep 1;
        next;
    }
    $handled++;
    my $job = eval { $json->decode($response->{content}) };
    if (ref $job ne 'HASH') {    # nowhere to count its failures: drop it
        logline("dropping a job that is not a JSON object: $response->{content}");
        next;
    }
    next if eval { process_job($job); 1 };

    my $error = $@;
    chomp $error;
    my $failures = ($job->{failures} // 0) + 1;
    if ($failures >= $max_failures) {
        logline("dropping a job after $failures failures ($error): $response->{content}");
        next;
    }
    $job->{failures} = $failures;
    my $body = $json->encode($job);
    logline("job failed ($error): giving it back, failures: $failures");
    # Giving the job back matters: unlike a lease, nothing else will.
    for my $try (1 .. 10) {
        my $put = $http->put(
            $jobs_url,
            { headers => { 'Content-Type' => 'application/json' }, content => $body },
        );
        last if $put->{success};
        logline("give back: $put->{status} $put->{reason}: $put->{content}");
        if ($put->{status} < 500 || $try == 10) {
            logline("job lost: $body");
            last;
        }
        sleep 1;
    }
}
logline("stopped after $handled jobs");
exit 0;
