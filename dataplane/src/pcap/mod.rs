//! Classic pcap capture files: read and write.
