#!/usr/bin/perl
# Builds the geo test databases from dnsd's own test data, with MaxMind's
# writer (Debian: libmaxmind-db-writer-perl, which tools/deps installs).
#
#   tests/geo/make_mmdb.pl tests/geo/data/networks.json OUTDIR
#
# writes, in the two layouts dnsd reads (SPEC section 2, [geo]):
#   OUTDIR/city.mmdb        MaxMind City layout: location.latitude/longitude as
#                           doubles; one IPv6 tree holding the IPv4 networks
#                           under ::/96, aliased like MaxMind's files
#                           (::ffff:0:0/96, 2001::/32, 2002::/16)
#   OUTDIR/dbip-ipv4.mmdb   DB-IP City Lite layout: top-level latitude/longitude
#   OUTDIR/dbip-ipv6.mmdb   as floats; one IPv4 tree and one IPv6 tree, for
#                           dnsd's list of databases
# Parents are inserted before their more specific networks, so the most
# specific network decides (the writer's last insert wins). Each file is
# written beside its final name and renamed, so a failed run leaves none.
use strict;
use warnings;

use JSON::PP ();
use MaxMind::DB::Writer::Tree;

@ARGV == 2 or die "usage: $0 NETWORKS.json OUTDIR\n";
my ( $source, $outdir ) = @ARGV;

my $json = do {
    open my $fh, '<', $source or die "$source: $!\n";
    local $/;
    <$fh>;
};
my $networks = JSON::PP->new->decode($json)->{networks}
    or die "$source: no \"networks\"\n";

my @v4;
my @v6;
for my $n ( @{$networks} ) {
    my ( $address, $length ) = split m{/}, $n->{prefix};
    die "$source: bad prefix $n->{prefix}\n" unless defined $length;
    if ( exists $n->{lat} != exists $n->{lon} ) {
        die "$source: $n->{prefix}: lat and lon go together\n";
    }
    push @{ $address =~ /:/ ? \@v6 : \@v4 }, { %{$n}, length => $length };
}

sub city_record {
    my ($n) = @_;
    my %r = ( country => { iso_code => $n->{country} // 'ZZ' } );
    $r{city} = { names => { en => $n->{city} } } if defined $n->{city};
    if ( exists $n->{lat} ) {
        $r{location} = {
            latitude        => $n->{lat} + 0,
            longitude       => $n->{lon} + 0,
            accuracy_radius => 10,
        };
    }
    return \%r;
}

sub dbip_record {
    my ($n) = @_;
    my %r = ( country_code => $n->{country} // 'ZZ' );
    $r{city} = $n->{city} if defined $n->{city};
    if ( exists $n->{lat} ) {
        $r{latitude}  = $n->{lat} + 0;
        $r{longitude} = $n->{lon} + 0;
    }
    return \%r;
}

my %city_types = (
    city            => 'map',
    names           => 'map',
    en              => 'utf8_string',
    country         => 'map',
    iso_code        => 'utf8_string',
    location        => 'map',
    latitude        => 'double',
    longitude       => 'double',
    accuracy_radius => 'uint16',
);
my %dbip_types = (
    city         => 'utf8_string',
    country_code => 'utf8_string',
    latitude     => 'float',
    longitude    => 'float',
);

sub write_db {
    my (%a) = @_;
    my $types = $a{types};
    my $tree  = MaxMind::DB::Writer::Tree->new(
        ip_version               => $a{ip_version},
        record_size              => 28,
        database_type            => $a{type},
        languages                => ['en'],
        description              => { en => "dnsd geo test data ($a{type})" },
        map_key_type_callback    => sub { $types->{ $_[0] } },
        remove_reserved_networks => 0,
        alias_ipv6_to_ipv4       => $a{alias} ? 1 : 0,
    );
    for my $n ( sort { $a->{length} <=> $b->{length} } @{ $a{networks} } ) {
        $tree->insert_network( $n->{prefix}, $a{record}->($n) );
    }
    my $path = "$outdir/$a{file}";
    open my $fh, '>:raw', "$path.tmp" or die "$path.tmp: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$path.tmp: $!\n";
    rename "$path.tmp", $path or die "$path: $!\n";
}

-d $outdir or mkdir $outdir or die "$outdir: $!\n";
write_db(
    file       => 'city.mmdb',
    type       => 'dnsd-Test-City',
    ip_version => 6,
    alias      => 1,
    networks   => [ @v4, @v6 ],
    types      => \%city_types,
    record     => \&city_record,
);
write_db(
    file       => 'dbip-ipv4.mmdb',
    type       => 'dnsd-Test-DBIP-City-Lite-IPv4',
    ip_version => 4,
    networks   => \@v4,
    types      => \%dbip_types,
    record     => \&dbip_record,
);
write_db(
    file       => 'dbip-ipv6.mmdb',
    type       => 'dnsd-Test-DBIP-City-Lite-IPv6',
    ip_version => 6,
    networks   => \@v6,
    types      => \%dbip_types,
    record     => \&dbip_record,
);
